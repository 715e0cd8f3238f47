"""One router per resource, each under the API version prefix."""

V1 = "/v1"
