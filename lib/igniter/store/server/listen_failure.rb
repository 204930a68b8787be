# frozen_string_literal: true

module Igniter
  module Store
    module Server
      # Tags a bind error (Errno::EADDRINUSE, EACCES, …) with the listener it
      # hit, so a start-up failure can say in one line which listener, which
      # address and what to do. The exception keeps its class and message
      # (callers of 0.5.2 rescue Errno::EADDRINUSE); it is extended with
      # this module.
      module ListenFailure
        # What to do about each bind error.
        ADVICE = {
          "EADDRINUSE" => "address already in use: another process listens there; stop it or choose another %<flag>s",
          "EACCES" => "permission denied: ports below 1024 need privileges; choose another %<flag>s",
          "EADDRNOTAVAIL" => "address not available on this machine; check --host",
          "ENOENT" => "the socket's directory does not exist; check --host"
        }.freeze

        # @return [String] e.g. "op-protocol", "HTTP", "envelope TCP"
        attr_accessor :listener
        # @return [String] "host:port" (or a unix socket path)
        attr_accessor :address
        # @return [String] the flag that chooses this listener's port
        attr_accessor :flag

        # @param error [SystemCallError]
        # @param listener [String]
        # @param address [String]
        # @param flag [String]
        # @return [SystemCallError] the same error, tagged
        def self.tag(error, listener:, address:, flag:)
          error.extend(self)
          error.listener = listener
          error.address = address
          error.flag = flag
          error
        end

        # @return [String] one line: listener, address, cause and advice
        def explanation
          name = self.class.name.split("::").last
          advice = ADVICE[name]
          cause = advice ? format(advice, flag: flag) : Transport::ErrorText.first_line(self)
          "#{listener} listener #{address}: #{cause}"
        end
      end
    end
  end
end
