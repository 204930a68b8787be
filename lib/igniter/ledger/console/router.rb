# frozen_string_literal: true

module Igniter
  module Ledger
    class Console
      # Dispatches a request below the console's mount point (SCRIPT_NAME)
      # to an asset, the login form, a page or a data endpoint, after the
      # auth check. Every response carries a strict Content-Security-Policy
      # (scripts and styles only from the console itself, nothing inline),
      # so even a value that slipped past escaping could not run.
      class Router
        # Headers sent with every response: CSP, no sniffing, no referrer, no caching.
        SECURITY_HEADERS = {
          "Content-Security-Policy" => "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " \
                                       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
          "X-Content-Type-Options" => "nosniff",
          "Referrer-Policy" => "no-referrer",
          "Cache-Control" => "no-store"
        }.freeze
        # The only HTTP methods the console answers (it never changes the ledger).
        READ_METHODS = %w[GET HEAD].freeze

        # @return [Array] Rack response with a JSON body
        def self.json(status, payload)
          body = JSON.generate(payload)
          [status, SECURITY_HEADERS.merge("Content-Type" => "application/json", "Content-Length" => body.bytesize.to_s),
           [body]]
        end

        # @return [Array] Rack response with an HTML body
        def self.html(status, body, headers = {})
          [status, SECURITY_HEADERS.merge("Content-Type" => "text/html; charset=utf-8",
                                          "Content-Length" => body.bytesize.to_s).merge(headers), [body]]
        end

        # @param auth [Auth]
        # @param pages [Pages]
        # @param api [JsonApi]
        def initialize(auth:, pages:, api:)
          @auth = auth
          @pages = pages
          @api = api
        end

        # @param env [Hash] Rack env
        # @return [Array] Rack response
        def call(env)
          request = Rack::Request.new(env)
          path = request.path_info.to_s
          if path.start_with?("/assets/")
            return Assets.serve(path.delete_prefix("/assets/"), env["HTTP_IF_NONE_MATCH"]) || not_found(request, path)
          end
          return login(request) if path == "/login"
          return logout(request) if path == "/logout"
          return unauthorized(request, path) unless @auth.allowed?(request)
          return method_not_allowed(request, path) unless READ_METHODS.include?(request.request_method)

          route(request, path)
        rescue BadRequest => e
          error(request, path, 400, e.message)
        rescue NotFound => e
          error(request, path, 404, e.message)
        rescue StandardError => e
          error(request, path, 500, "Internal error: #{e.class}: #{Store::TransportSupport.safe_message(e)}")
        end

        private

        def route(request, path)
          return @api.call(path, request) if @api.route?(path)

          body = @pages.render(path, request)
          body ? Router.html(200, body) : not_found(request, path)
        end

        def login(request)
          return Router.html(200, @pages.login(request, signed_in: true)) unless @auth.enabled?
          return Router.html(200, @pages.login(request)) unless request.post?

          unless @auth.token?(request.POST["token"])
            return Router.html(401, @pages.login(request, failed: true))
          end

          response = Rack::Response.new([], 303, SECURITY_HEADERS.merge("Location" => return_to(request)))
          @auth.sign_in(response, request, request.POST["token"])
          response.finish
        end

        def logout(request)
          return method_not_allowed(request, "/logout") unless request.post?

          response = Rack::Response.new([], 303, SECURITY_HEADERS.merge("Location" => "#{request.script_name}/login"))
          @auth.sign_out(response, request)
          response.finish
        end

        # Only a path inside the console (no scheme, host or "//"), else its index.
        def return_to(request)
          base = request.script_name.to_s
          target = request.POST["return_to"].to_s
          inside = target.start_with?("#{base}/") && !target.start_with?("//") && !target.match?(%r{\A[a-z]+:|\\}i)
          inside ? target : "#{base}/"
        end

        def api?(path)
          path.start_with?("/api/")
        end

        def unauthorized(request, path)
          message = "authentication required: send Authorization: Bearer <token> or sign in at #{request.script_name}/login"
          return Router.json(401, { error: message }).tap { |r| r[1]["WWW-Authenticate"] = %(Bearer realm="igniter-ledger console") } if api?(path)

          Router.html(401, @pages.login(request, return_to: request.fullpath))
        end

        def method_not_allowed(request, path)
          error(request, path, 405, "Method not allowed: the console is read-only", "Allow" => "GET, HEAD")
        end

        def not_found(request, path)
          error(request, path, 404, "Not found: #{path}")
        end

        def error(request, path, status, message, headers = {})
          response = api?(path) ? Router.json(status, { error: message }) : Router.html(status, @pages.error(request, status, message))
          response[1].merge!(headers)
          response
        end
      end
    end
  end
end
