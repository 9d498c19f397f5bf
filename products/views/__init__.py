"""Browser pages for products: dashboard, lists, resource editing, history, the setup wizard.

Reads come from the index (never Git), except the history pages, which show Git's history.
Writes go through `products.services` only, after `nautes_portal.permissions` allowed them.
Every page works without JavaScript; htmx only swaps fragments (live checks, list filtering).

One module per area: `pages` (dashboard, product list and page, settings, delete), `resources`
(a product's resource lists and forms), `history` (commits and reverts) and `wizard` (the setup
wizard); `common` holds what several of them use. `products/urls.py` routes to them.
"""
