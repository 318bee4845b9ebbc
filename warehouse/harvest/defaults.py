"""Where and what the harvests fetch by default; a module of constants, light enough for the CLI's help text."""

DEFAULT_OAI_ENDPOINT = "https://oaipmh.arxiv.org/oai"
DEFAULT_SETS = ("cs", "stat", "q-bio")
DEFAULT_API_ENDPOINT = "https://export.arxiv.org/api/query"
