"""What every domain uses: permissions, the acting user, time and column types, error pages."""
