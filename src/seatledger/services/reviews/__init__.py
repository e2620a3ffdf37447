"""Access review campaigns: reviewers keep or release the seats of their teams."""
