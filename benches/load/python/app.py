"""autumn-py 3.1.9's ``AutumnASGI`` mounted at /api/autumn in a Starlette app: the Python target of the
load comparison (benches/load/run.sh). Served by uvicorn with uvloop and httptools:

    AUTUMN_SECRET_KEY=am_sk_... AUTUMN_API_URL=http://127.0.0.1:18401 \
        .venv/bin/uvicorn --app-dir python app:app --loop uvloop --http httptools --port 18406

``AUTUMN_API_URL`` is the upstream base URL without /v1. ``AutumnASGI`` takes no base URL, and its
client reads the SDK's module-level ``BASE_URL`` when it is built, so that is set first.

The SDK's nearest route to getOrCreateCustomer is ``POST /customers/`` (v1.2 ``POST /v1/customers``).
Identify rule, the same as the Rust quickstart's: ``x-customer-id`` names the customer,
``x-customer-name`` and ``x-customer-email`` become its data.
"""

import os

import autumn
from autumn.asgi import AutumnASGI
from starlette.applications import Starlette
from starlette.routing import Mount

autumn.BASE_URL = os.environ["AUTUMN_API_URL"].rstrip("/")


async def identify(request):
    headers = request.headers
    return {
        "customer_id": headers.get("x-customer-id"),
        "customer_data": {
            "name": headers.get("x-customer-name"),
            "email": headers.get("x-customer-email"),
        },
    }


app = Starlette(
    routes=[
        Mount(
            "/api/autumn",
            app=AutumnASGI(os.environ["AUTUMN_SECRET_KEY"], identify=identify),
        )
    ]
)
