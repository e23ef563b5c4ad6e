"""The original Spanish endpoints (`/api/v1/estado`, `/procesar`, `/consultar`,
`/consultar-inteligente`), kept exactly so existing curl scripts and n8n flows keep working."""
