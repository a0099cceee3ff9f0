from __future__ import annotations

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from siyu.core.db import Base


class Setting(Base):
    """Key-value settings, one namespace per plugin (``core`` for the shop's own)."""

    __tablename__ = "settings"

    plugin: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
