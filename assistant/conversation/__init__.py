"""The conversation around the answers: follow-up questions resolved into standalone ones (`resolver`, `rewrite`)
and each user's conversations per case, kept on disk (`store`)."""
