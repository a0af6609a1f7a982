"""Pages of the weddings app."""

app_name = "weddings"
urlpatterns: list = []
