# frozen_string_literal: true

module Igniter
  module Store
    module Server
      # "host:port" parsing shared by the server and the client. Bracketed
      # IPv6 literals work ("[::1]:7400"); a missing port means the default
      # (0.5.2's client raised TypeError there instead).
      module Address
        # Port of a `host` address given without one.
        DEFAULT_PORT = 7400

        module_function

        # @param address [String] "host", "host:port", "[v6]" or "[v6]:port"
        # @param default_port [Integer]
        # @return [Array(String, Integer)] host and port
        # @raise [ArgumentError] for a port that is not an Integer
        def parse(address, default_port: DEFAULT_PORT)
          text = address.to_s
          host, port = if (m = text.match(/\A\[([^\]]*)\](?::(.*))?\z/))
                         [m[1], m[2]]
                       elsif text.count(":") > 1
                         [text, nil] # a bare IPv6 literal has no port
                       else
                         text.split(":", 2)
                       end
          [host, port.nil? || port.empty? ? default_port : Integer(port, 10)]
        rescue ArgumentError, TypeError
          raise ArgumentError, "invalid port in address #{address.inspect}"
        end

        # @param host [String]
        # @param port [Integer]
        # @return [String] "host:port", IPv6 hosts bracketed
        def format(host, port)
          host.to_s.include?(":") ? "[#{host}]:#{port}" : "#{host}:#{port}"
        end
      end
    end
  end
end
