"""Pages of the realtime app."""

app_name = "realtime"
urlpatterns: list = []
