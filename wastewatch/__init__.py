"""wastewatch: event-driven monitoring for medical-waste incineration plants.

This shared package holds what every service uses: settings, the plant catalogue, the MQTT topic
contract, the domain records and the time-series store adapters.
"""

__version__ = "0.1.0"
