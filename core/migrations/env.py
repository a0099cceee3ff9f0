"""Alembic environment: the connection and metadata come from ``siyu.core.migrate``."""
from alembic import context

from siyu.core.db import UTCDateTime



def _render_item(type_, obj, autogen_context):
    # Migrations stay free of application imports: our UTC type is a plain DateTime.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


config = context.config
connection = config.attributes["connection"]
target_metadata = config.attributes["target_metadata"]

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=_render_item,
)
with context.begin_transaction():
    context.run_migrations()
