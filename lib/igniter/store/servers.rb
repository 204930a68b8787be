# frozen_string_literal: true

# Process and socket surface of the op protocol (spec 05 §1-8, §13):
# StoreServer, its config, logger, metrics and event ring, and the
# NetworkBackend client. Required from lib/igniter/store.rb.
