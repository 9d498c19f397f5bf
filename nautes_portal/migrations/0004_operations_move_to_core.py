# The operations engine moved from the deployments app to the core (#13). Its two models change
# app in the migration state only: their tables keep the names deployments created
# (`deployments_operation`, `deployments_operationstep`), so no row moves and no table is touched.
# Their content types follow them, so that admin log entries and permissions stay attached.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


MODELS = ('operation', 'operationstep')


def _move_content_types(apps, source, target):
    content_type = apps.get_model('contenttypes', 'ContentType')
    taken = content_type.objects.filter(app_label=target, model__in=MODELS).values('model')
    content_type.objects.filter(app_label=source, model__in=MODELS).exclude(
        model__in=taken
    ).update(app_label=target)


def content_types_to_core(apps, schema_editor):
    _move_content_types(apps, 'deployments', 'nautes_portal')


def content_types_to_deployments(apps, schema_editor):
    _move_content_types(apps, 'nautes_portal', 'deployments')


class Migration(migrations.Migration):

    dependencies = [
        ('nautes_portal', '0003_oidc_username'),
        ('products', '0001_initial'),
        # The tables exist once deployments created them.
        ('deployments', '0005_drop_runtimestatus_runtime_join'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Operation',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(max_length=64)),
                        ('target', models.CharField(help_text='What the operation works on.', max_length=255)),
                        ('product_name', models.CharField(blank=True, default='', max_length=255)),
                        ('params', models.JSONField(blank=True, default=dict, help_text='Ids and names; never secrets.')),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed')], default='pending', max_length=16)),
                        ('error', models.TextField(blank=True, default='')),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('lease_until', models.DateTimeField(blank=True, help_text='A running operation past this time lost its worker.', null=True)),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('product', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='products.product')),
                    ],
                    options={
                        'db_table': 'deployments_operation',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['status', 'lease_until'], name='deployments_status_6cb3e7_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='OperationStep',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('position', models.PositiveSmallIntegerField()),
                        ('name', models.CharField(max_length=64)),
                        ('title', models.CharField(max_length=255)),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed')], default='pending', max_length=16)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('detail', models.TextField(blank=True, default='')),
                        ('error', models.TextField(blank=True, default='')),
                        ('operation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='nautes_portal.operation')),
                    ],
                    options={
                        'db_table': 'deployments_operationstep',
                        'ordering': ['operation', 'position'],
                        'constraints': [models.UniqueConstraint(fields=('operation', 'position'), name='step_unique_position')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_core, content_types_to_deployments),
    ]
