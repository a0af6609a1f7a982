"""Pages of the caching app."""

app_name = "caching"
urlpatterns: list = []
