"""stub"""
from siyu_distribution.views.blueprints import admin_bp, bp  # noqa: F401


def dashboard_widget(session, staff):
    return None


def member_panel(member, session, staff):
    return None
