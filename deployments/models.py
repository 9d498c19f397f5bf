"""What Argo CD last said about each deployed runtime (the operations log is the core's,
`nautes_portal.operations`)."""

from __future__ import annotations

from django.db import models
from django.db.models import Case, Q, Value, When

# A status row is "known" when the Application was read and found: anything else is unknown.
KNOWN = Q(reachable=True, read_at__isnull=False, application_found=True)
# What the overview lists under "needs attention". One definition, computed by the database.
NEEDS_ATTENTION = (
    Q(reachable=False)
    | Q(application_found=False, read_at__isnull=False)
    | ~Q(health_status="Healthy")
    | ~Q(sync_status="Synced")
)


class RuntimeStatus(models.Model):
    """What Argo CD last said about one DeploymentRuntime's Application, and where it is deployed.

    One row per (product, runtime name). The collector (`deployments.status`) owns the status
    columns and rewrites them in bulk every cycle; the reconciler (`deployments.reconciler`) owns
    `deployed_*` (where the portal last applied it) and `pass_*`/`applied_commit` (what its last
    pass did). The row outlives the index row of the runtime until a pass removed it.
    """

    class Sync(models.TextChoices):
        SYNCED = "Synced", "Synced"
        OUT_OF_SYNC = "OutOfSync", "Out of sync"
        UNKNOWN = "Unknown", "Unknown"

    class Health(models.TextChoices):
        HEALTHY = "Healthy", "Healthy"
        PROGRESSING = "Progressing", "Progressing"
        DEGRADED = "Degraded", "Degraded"
        SUSPENDED = "Suspended", "Suspended"
        MISSING = "Missing", "Missing"
        UNKNOWN = "Unknown", "Unknown"

    product = models.ForeignKey(
        "products.Product", on_delete=models.CASCADE, related_name="runtime_statuses"
    )
    runtime_name = models.CharField(max_length=253)
    cluster = models.CharField(max_length=63, blank=True, default="", db_index=True)
    environment = models.CharField(max_length=253, blank=True, default="")
    application_found = models.BooleanField(
        default=False, help_text="Whether Argo CD has the Application at all."
    )
    sync_status = models.CharField(max_length=16, blank=True, default="")
    revision = models.CharField(max_length=255, blank=True, default="")
    health_status = models.CharField(max_length=16, blank=True, default="")
    health_message = models.TextField(blank=True, default="")
    operation_phase = models.CharField(max_length=16, blank=True, default="")
    operation_message = models.TextField(blank=True, default="")
    operation = models.JSONField(
        default=dict, blank=True, help_text="Last operation: times, revision, failed resources."
    )
    conditions = models.JSONField(default=list, blank=True)
    resources = models.JSONField(default=list, blank=True)
    history = models.JSONField(default=list, blank=True, help_text="Last 10 syncs, newest first.")
    deployed_at = models.DateTimeField(null=True, blank=True, help_text="Last sync in history.")
    reconciled_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True, help_text="Last successful read.")
    checked_at = models.DateTimeField(null=True, blank=True, help_text="Last attempt to read.")
    reachable = models.BooleanField(default=False)
    error = models.TextField(blank=True, default="")
    source_version = models.CharField(
        max_length=128,
        blank=True,
        default="",
        help_text="uid/resourceVersion of the Application read: unchanged means nothing to map.",
    )
    # What the last reconcile pass of the runtime's cluster did with it (`deployments.reconciler`).
    pass_at = models.DateTimeField(null=True, blank=True, help_text="Last reconcile pass.")
    pass_result = models.CharField(max_length=16, blank=True, default="")
    pass_message = models.TextField(blank=True, default="")
    applied_commit = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="The index commit the last pass applied (the cluster is behind Git when the "
        "product's index is at another commit).",
    )
    deployed_cluster = models.CharField(max_length=63, blank=True, default="")
    deployed_namespaces = models.JSONField(default=list, blank=True)
    deployed_account = models.CharField(max_length=253, blank=True, default="")
    # Derived by the database from the columns above, so that no writer can forget them and the
    # overview counts and filters with plain columns (cheap SQL, cheap to build).
    sync_state = models.GeneratedField(
        expression=Case(
            When(~KNOWN, then=Value("unknown")),
            When(sync_status="Synced", then=Value("synced")),
            default=Value("out_of_sync"),
        ),
        output_field=models.CharField(max_length=16),
        db_persist=True,
    )
    health_state = models.GeneratedField(
        expression=Case(
            When(~KNOWN, then=Value("unknown")),
            When(health_status="Healthy", then=Value("healthy")),
            When(health_status__in=["Progressing", "Suspended"], then=Value("progressing")),
            When(health_status__in=["Degraded", "Missing"], then=Value("degraded")),
            default=Value("other"),
        ),
        output_field=models.CharField(max_length=16),
        db_persist=True,
    )
    needs_attention = models.GeneratedField(
        expression=Case(
            When(NEEDS_ATTENTION, then=Value(True)),
            default=Value(False),
        ),
        output_field=models.BooleanField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["product", "runtime_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "runtime_name"], name="runtimestatus_unique_runtime"
            )
        ]

    def __str__(self) -> str:
        where = self.cluster or "?"
        return f"{self.runtime_name} on {where}: {self.sync_status}/{self.health_status}"

    @property
    def known(self) -> bool:
        """Whether the row reflects a successful read (else the status is unknown)."""
        return self.reachable and self.read_at is not None


class PassResult(models.TextChoices):
    """What a reconcile pass did with one runtime."""

    APPLIED = "applied", "Applied"  # something was written
    UNCHANGED = "unchanged", "Unchanged"  # the cluster already matched the index
    REFUSED = "refused", "Refused"  # the index asks for what the product may not have
    CONFLICT = "conflict", "Conflict"  # an object of that name belongs to someone else


class ClusterReconcile(models.Model):
    """The reconciler's record of one runtime cluster (`deployments.reconciler`).

    `lease_until`/`lease_operation` keep two passes of one cluster from running at once (a
    pass that read an older index must not prune what a newer one just created). `admitted`
    is what the objects step admitted, for the access steps of the same pass. `vault_roles`
    and `vault_mount` remember what the portal wrote in Vault, so that it removes only that.
    """

    cluster = models.CharField(max_length=63, unique=True)
    last_pass_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=16, blank=True, default="")
    last_detail = models.TextField(blank=True, default="")
    last_operation = models.IntegerField(null=True, blank=True)
    writes = models.IntegerField(default=0, help_text="Objects written by the last pass.")
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_operation = models.IntegerField(null=True, blank=True)
    admitted = models.JSONField(default=dict, blank=True)
    vault_mount = models.BooleanField(default=False)
    vault_roles = models.JSONField(default=list, blank=True)
    # What the Vault step last made Vault hold (a hash of the roles and mount), and when it last
    # read Vault back: an unchanged cluster costs no Vault request between full checks.
    vault_hash = models.CharField(max_length=64, blank=True, default="")
    vault_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["cluster"]

    def __str__(self) -> str:
        return f"reconcile of {self.cluster}: {self.last_result or 'never run'}"
