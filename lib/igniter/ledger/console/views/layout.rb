# frozen_string_literal: true

module Igniter
  module Ledger
    class Console
      # HTML of the console pages: escaped templates, one module per group of pages.
      module Views
        # The frame around every page (header, navigation, footer), the login
        # form and error pages.
        module Layout
          # Navigation entries: label, path, page id.
          NAV = [["Stores", "/", :stores], ["Live feed", "/feed", :feed], ["Storage", "/storage", :storage],
                 ["Status", "/status", :status]].freeze

          # @param request [Rack::Request]
          # @param heading [String] page title (text, escaped here)
          # @param active [Symbol, nil] highlighted navigation entry
          # @param body [String] the page's markup
          # @return [String] the whole document
          def layout(request, heading, active, body)
            base = request.script_name.to_s
            <<~HTML
              <!doctype html>
              <html lang="en">
              <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>#{h(heading)} · #{h(@title)}</title>
              <link rel="stylesheet" href="#{url(base, "/assets/console.css")}">
              <script src="#{url(base, "/assets/console.js")}" defer></script>
              </head>
              <body data-base="#{h(base)}" data-page="#{h(active)}">
              <header class="top">
              <a class="brand" href="#{url(base, "/")}">#{h(@title)}</a>
              <nav>#{navigation(base, active)}</nav>
              <span class="mode">read-only</span>
              #{logout_button(request)}
              </header>
              <main>
              <h1>#{h(heading)}</h1>
              #{body}
              </main>
              <footer>igniter-ledger #{h(Store::VERSION)} console · times are transaction times in UTC</footer>
              </body>
              </html>
            HTML
          end

          # The sign-in page (also the 401 answer of a page request).
          # @param return_to [String, nil] where to go after signing in
          # @return [String]
          def login(request, failed: false, signed_in: false, return_to: nil)
            base = request.script_name.to_s
            return layout(request, "Sign in", nil, %(<p>This console has no token; nothing to sign in to. #{link("Open the console", base, "/")}</p>)) if signed_in

            target = return_to || request.POST["return_to"] || "#{base}/"
            notice = failed ? %(<p class="notice error" role="alert">That token is not the console's token.</p>) : ""
            layout(request, "Sign in", nil, <<~HTML)
              #{notice}
              <form class="login" method="post" action="#{url(base, "/login")}">
              <label>Token <input type="password" name="token" autocomplete="current-password" autofocus required></label>
              <input type="hidden" name="return_to" value="#{h(target)}">
              <button type="submit">Sign in</button>
              </form>
              <p class="hint">The server's auth token (<code>--auth-token</code> / <code>IGNITER_LEDGER_TOKEN</code>).
              Scripts send it as <code>Authorization: Bearer TOKEN</code> instead.</p>
            HTML
          end

          # @return [String] an error page
          def error(request, status, message)
            layout(request, "#{status} #{Rack::Utils::HTTP_STATUS_CODES[status]}", nil,
                   %(<p class="notice error" role="alert">#{h(message)}</p><p>#{link("Back to the stores", request.script_name.to_s, "/")}</p>))
          end

          private

          def navigation(base, active)
            NAV.map do |text, path, name|
              link(text, base, path, {}, name == active ? { aria_current: "page", class: "active" } : {})
            end.join(" ")
          end

          def logout_button(request)
            return "" unless request.cookies.key?(Auth::COOKIE)

            %(<form class="logout" method="post" action="#{url(request.script_name.to_s, "/logout")}"><button type="submit">Sign out</button></form>)
          end
        end
      end
    end
  end
end
