# frozen_string_literal: true

# Process and socket surface of the op protocol (spec 05 §1-8, §13):
# StoreServer, its config, logger, metrics and event ring, and the
# NetworkBackend client. Required from lib/igniter/store.rb.
require_relative "protocol"
require_relative "transport"
require_relative "feed/event_ring"
require_relative "server/server_config"
require_relative "server/log_format"
require_relative "server/server_logger"
require_relative "server/metric_registry"
require_relative "server/prometheus_text"
require_relative "server/server_metrics"
require_relative "server/address"
require_relative "server/settings"
require_relative "server/listen_failure"
require_relative "server/listener"
require_relative "server/signal_watcher"
require_relative "server/wire_fact"
require_relative "server/op_dispatch"
require_relative "server/events"
require_relative "server/recovery_report"
require_relative "server/metrics_export"
require_relative "server/file_storage"
require_relative "server/connection"
require_relative "server/adapters"
require_relative "server/store_server"
require_relative "server/network_backend"
