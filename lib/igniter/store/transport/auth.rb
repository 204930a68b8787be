# frozen_string_literal: true

require "digest"

module Igniter
  module Store
    module Transport
      # The shared secrets of every transport (op protocol, envelope TCP,
      # HTTP, SSE, MCP over HTTP): which requests pass, compared in
      # constant time.
      module Auth
        module_function

        # Compares SHA-256 digests, so neither the token's bytes nor its
        # length show in the response time.
        # @param expected [String]
        # @param given [Object]
        # @return [Boolean] false unless +given+ is the same String
        def token_matches?(expected, given)
          given.is_a?(String) && Digest::SHA256.digest(given) == Digest::SHA256.digest(expected)
        end

        # Who may read and who may write (see README "Access control"):
        # - a write token guards every write; it also reads;
        # - a read token, or `auth_reads`, guards every read, replay, feed and
        #   status request; health, readiness and `ping` stay open.
        # A request is `:read`, `:write` or `:open`; {#check} answers `:ok`,
        # `:unauthorized` (no or a wrong token) or `:forbidden` (a read token
        # asking to write).
        class Policy
          # Access kinds a transport asks about.
          ACCESS = %i[open read write].freeze

          # @return [String, nil]
          attr_reader :write_token, :read_token

          # @param write_token [String, nil] 0.5.2's `auth_token`
          # @param read_token [String, nil]
          # @param auth_reads [Boolean] reads need a token even without a read token (the write token then)
          # @raise [ArgumentError] for an empty or non-String token, equal tokens, a read
          #   token without a write token (anyone could write) or auth_reads without any token
          def initialize(write_token: nil, read_token: nil, auth_reads: false)
            @write_token = checked(:write_token, write_token)
            @read_token = checked(:read_token, read_token)
            @auth_reads = auth_reads ? true : false
            validate!
          end

          # @return [Boolean] reads need a token
          def reads_guarded?
            @auth_reads || !@read_token.nil?
          end

          # @return [Boolean] writes need a token
          def writes_guarded?
            !@write_token.nil?
          end

          # @param access [Symbol] :open, :read or :write
          # @param given [Object] the token the request carried (nil = none)
          # @return [Symbol] :ok, :unauthorized or :forbidden
          def check(access, given)
            case access
            when :open then :ok
            when :read then !reads_guarded? || reads?(given) ? :ok : :unauthorized
            when :write
              return :ok if !writes_guarded? || Auth.token_matches?(@write_token, given)

              read_only?(given) ? :forbidden : :unauthorized
            else raise ArgumentError, "access must be one of #{ACCESS.inspect}, got #{access.inspect}"
            end
          end

          # What is guarded, for the start-up line (never a token).
          # @return [String]
          def describe
            writes = writes_guarded? ? "writes need the write token" : "writes open"
            reads = if !reads_guarded? then "reads open"
                    elsif @read_token then "reads need the read or write token"
                    else "reads need the write token"
                    end
            "#{writes}, #{reads}"
          end

          private

          def reads?(given)
            (@write_token && Auth.token_matches?(@write_token, given)) ||
              (@read_token && Auth.token_matches?(@read_token, given))
          end

          def read_only?(given)
            !@read_token.nil? && Auth.token_matches?(@read_token, given)
          end

          # (The message never shows a token's value.)
          def checked(name, value)
            return nil if value.nil?
            return value if value.is_a?(String) && !value.empty?

            shown = name == :write_token ? "auth_token (the write token)" : name.to_s
            raise ArgumentError, "#{shown} must be a non-empty String or nil, got #{value == "" ? "\"\"" : value.class}"
          end

          def validate!
            if @read_token && @write_token.nil?
              raise ArgumentError, "a read token needs a write token too (auth_token/write_token): " \
                                   "otherwise anyone could write"
            end
            if @read_token && @read_token == @write_token
              raise ArgumentError, "read_token and write_token must differ (a read token cannot write)"
            end
            return unless @auth_reads && @write_token.nil?

            raise ArgumentError, "auth_reads needs a token to check: set write_token (auth_token) or read_token"
          end
        end
      end
    end
  end
end
