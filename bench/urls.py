"""The portal's URLs plus two baselines with the portal's authentication and no work:
`/bench/trivial` (a DRF view, token authentication) and `/bench/trivial-page` (a plain Django view
behind the login, session authentication)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class Trivial(APIView):
    def get(self, request: Request) -> Response:
        return Response({})


@login_required
def trivial_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<!doctype html><title>ok</title><p>ok</p>")


urlpatterns = [
    path("bench/trivial", Trivial.as_view()),
    path("bench/trivial-page", trivial_page),
    path("", include("nautes_portal.urls")),
]
