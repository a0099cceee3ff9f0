"""The plugin's two blueprints; templates live in ``siyu_distribution/templates/distribution``."""
from flask import Blueprint

bp = Blueprint("distribution", "siyu_distribution", template_folder="templates",
               static_folder="static", static_url_path="/distribution/static")
admin_bp = Blueprint("distribution_admin", "siyu_distribution", template_folder="templates")
