from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`{"count", "next", "previous", "results"}`, with `page_size` up to 1,000."""

    page_size_query_param = "page_size"
    max_page_size = 1000
