"""stub"""
from siyu_distribution.views.blueprints import admin_bp, bp  # noqa: F401
