# frozen_string_literal: true

module Igniter
  module Store
    class HTTPAdapter
      # Base of the read-only endpoints: anything but GET gets 405, a GET is
      # answered by the subclass's private `get(env)`.
      class GetHandler
        include ResponseHelper

        # @param provider [#call, nil] where the payload comes from; nil = the endpoint's default
        # @param interpreter [Protocol::Interpreter, nil]
        def initialize(provider = nil, interpreter: nil)
          @provider = provider
          @interpreter = interpreter
        end

        # @return [Array] Rack response
        def call(env)
          return method_not_allowed unless env["REQUEST_METHOD"] == "GET"

          get(env)
        end

        private

        # 200 with the provider's payload, or the block's when there is no provider.
        def provided_json
          json_response(200, @provider ? @provider.call : yield)
        end
      end
    end
  end
end
