"""Pages of the scaling app."""

app_name = "scaling"
urlpatterns: list = []
