"""The portal's URLs plus `/bench/trivial`: the same authentication, no work."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class Trivial(APIView):
    def get(self, request: Request) -> Response:
        return Response({})


urlpatterns = [
    path("bench/trivial", Trivial.as_view()),
    path("", include("nautes_portal.urls")),
]
