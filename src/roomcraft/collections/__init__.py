"""Collections of renders; favorites are each user's default "My Favorites" collection."""
