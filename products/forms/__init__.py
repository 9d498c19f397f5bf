"""Browser forms for products and their resources, and the product setup wizard's draft.

Forms parse what the user typed into the API body shape (snake_case, repository names), so the
browser and the REST API share one conversion path (`products.api.codecs`) and one set of rules
(`products.rules`, through the services or the wizard's `Draft`). Forms never write anything.

`resources` holds one form per resource kind, `kinds` how each kind appears in the browser,
`product` the product's own forms and `wizard` the setup wizard's session draft.
"""
