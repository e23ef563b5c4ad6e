"""Background jobs: `POST /v1/jobs`, arq workers (`assistant worker`), signed result callbacks."""
