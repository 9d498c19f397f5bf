"""An operation and its steps: the log of one provisioning run, resumable by step.

The tables keep the names they had when the engine lived in the deployments app (migration
`nautes_portal.0004_operations_move_to_core` moved the models without moving any row).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Operation(models.Model):
    """One provisioning run (e.g. create a product's group and repository), resumable by step."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=64)
    target = models.CharField(max_length=255, help_text="What the operation works on.")
    # A string reference: the core names the product table without importing the products app.
    product = models.ForeignKey(
        "products.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    product_name = models.CharField(max_length=255, blank=True, default="")
    params = models.JSONField(default=dict, blank=True, help_text="Ids and names; never secrets.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="A running operation past this time lost its worker."
    )

    class Meta:
        db_table = "deployments_operation"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "lease_until"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.target} ({self.status})"


class OperationStep(models.Model):
    """One named step of an operation, with its timings, attempts and a user-safe error."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=64)
    title = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    detail = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "deployments_operationstep"
        ordering = ["operation", "position"]
        constraints = [
            models.UniqueConstraint(fields=["operation", "position"], name="step_unique_position")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name} ({self.status})"

    @property
    def duration_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None
