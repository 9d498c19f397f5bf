# `Operation` and `OperationStep` now belong to the core app (`nautes_portal.0004`), which took
# over their tables as they are: they leave this app's migration state only; no table is dropped.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('deployments', '0005_drop_runtimestatus_runtime_join'),
        ('nautes_portal', '0004_operations_move_to_core'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='OperationStep'),
                migrations.DeleteModel(name='Operation'),
            ],
            database_operations=[],
        ),
    ]
