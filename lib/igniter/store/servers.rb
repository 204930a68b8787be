# frozen_string_literal: true

# Process and socket surface of the op protocol (spec 05 §1-8, §13):
# StoreServer, its config, logger, metrics and event ring, and the
# NetworkBackend client. Required from lib/igniter/store.rb.
require_relative "transport/clock"
require_relative "transport/error_text"
require_relative "transport/auth"
require_relative "transport/socket_io"
require_relative "transport/timed_reader"
require_relative "transport/frame_reader"
require_relative "transport/json_frame"
require_relative "event_ring"
require_relative "server_config"
require_relative "server_logger"
require_relative "server_metrics"
require_relative "server/address"
require_relative "server/settings"
require_relative "server/listener"
require_relative "server/signal_watcher"
require_relative "server/wire_fact"
require_relative "server/op_dispatch"
require_relative "server/events"
require_relative "server/connection"
require_relative "server/adapters"
require_relative "store_server"
require_relative "network_backend"
