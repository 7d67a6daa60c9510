"""The community gallery: admin-curated collections of renders and images anyone can browse."""
