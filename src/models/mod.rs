//! Request and response types of the Autumn REST API (current version, snake_case wire format).
