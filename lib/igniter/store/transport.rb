# frozen_string_literal: true

# Layer 6, transport: what every socket server shares. Clock, error text,
# token check, TLS, socket IO, timed and framed readers, and the accept loop
# (backoff, bursts, connection slots).
require_relative "core"
require_relative "transport/clock"
require_relative "transport/error_text"
require_relative "transport/auth"
require_relative "transport/tls"
require_relative "transport/socket_io"
require_relative "transport/timed_reader"
require_relative "transport/frame_reader"
require_relative "transport/json_frame"
require_relative "transport/backoff"
require_relative "transport/accept_bursts"
require_relative "transport/connection_slot"
require_relative "transport/accept_loop"
require_relative "transport/option_checks"
