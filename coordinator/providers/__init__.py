"""The provider directory: the territory's resources (GPs, nurses, dietitians, services...)."""
