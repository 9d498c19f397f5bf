"""Shared pieces of the browser pages, used by every app: htmx detection, list pagination,
diff rendering and the accessible form base. They know no app; apps import them."""
