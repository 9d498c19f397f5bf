# The overview's SQL joins status rows to the index itself; the ForeignObject (no column, no
# constraint) goes from the state only. SQLite's schema editor cannot remove a ForeignObject.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('deployments', '0004_runtimestatus_runtime_join'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name='runtimestatus', name='runtime'),
            ],
            database_operations=[],
        ),
    ]
