"""modelauth: Amplify-grade model authorization for Python Lambda resolvers.

Submodules: ``identity`` (Principal), ``rules`` (the ``allow`` DSL and models), ``policy``
(``decide``), ``store`` (DynamoDB), ``resolvers`` (AppSync / API Gateway wiring), ``errors``.
Imports stay lazy so a handler only pays for what its request path uses.
"""

__all__: list[str] = []
__version__ = "0.1.0"
