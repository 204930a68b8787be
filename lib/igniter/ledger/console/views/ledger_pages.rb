# frozen_string_literal: true

module Igniter
  module Ledger
    class Console
      module Views
        # The pages about what the ledger holds: stores, a store's keys, a
        # key's history with diffs, one fact with its causation chain.
        module LedgerPages
          # Characters of an id shown before it is elided.
          SHORT_ID = 8

          # `/`: every store with its fact and key counts.
          def stores_page(request)
            base = request.script_name.to_s
            census = @read.census
            user, internal = census[:stores].partition { |s| !s[:internal] }
            body = +<<~HTML
              <section class="cards">
              <div class="card"><span class="label">facts</span><span class="number" data-metric="fact_count">#{h(census[:fact_count])}</span></div>
              <div class="card"><span class="label">stores</span><span class="number">#{h(census[:store_count])}</span></div>
              <div class="card"><span class="label">keys</span><span class="number">#{h(census[:key_count])}</span></div>
              </section>
              #{store_table(base, user, "stores")}
            HTML
            body << "<h2>Engine stores</h2>\n#{store_table(base, internal, "engine-stores")}" unless internal.empty?
            layout(request, "Stores", :stores, body)
          end

          # `/store?store=&scope=&as_of=&page=`: the keys of one store, latest values.
          def store_page(request)
            base = request.script_name.to_s
            params = request.params
            coords = TimeCoordinates.from_params(params)
            data = @read.keys(store: params["store"], scope: params["scope"], coords: coords,
                              page: params.fetch("page", 1), per_page: params.fetch("per_page", ReadModel::DEFAULT_PER_PAGE))
            keep = { "store" => data[:store], "scope" => data[:scope] }
            rows = data[:rows].map do |row|
              <<~HTML
                <tr data-key="#{h(row[:key])}">
                <td class="key">#{link(row[:key], base, "/key", { "store" => data[:store], "key" => row[:key] }.merge(coords.to_params))}</td>
                <td class="value"><code>#{json_text(row[:value], limit: Html::PREVIEW_CHARS)}</code></td>
                <td class="count">#{h(row[:versions])}</td>
                <td>#{time_tag(row[:transaction_time])}</td>
                <td>#{fact_link(base, row[:id])}</td>
                </tr>
              HTML
            end.join
            body = <<~HTML
              #{time_travel_form(request, "/store", keep, data[:time])}
              #{scope_form(base, data, coords)}
              <table class="keys">
              <thead><tr><th>key</th><th>latest value#{coords.as_of ? " (as of then)" : ""}</th><th>versions</th><th>transaction time</th><th>fact</th></tr></thead>
              <tbody>#{rows.empty? ? %(<tr><td colspan="5" class="none">no keys</td></tr>) : rows}</tbody>
              </table>
              #{pager(base, data, keep.merge(coords.to_params))}
            HTML
            layout(request, "Store #{data[:store]}", :stores, body)
          end

          # `/key?store=&key=&as_of=`: every version of a key, diffed.
          def key_page(request)
            base = request.script_name.to_s
            params = request.params
            coords = TimeCoordinates.from_params(params)
            data = @read.history(store: params["store"], key: params["key"], coords: coords)
            keep = { "store" => data[:store], "key" => data[:key] }
            versions = data[:versions].reverse.map { |version| version_section(base, data, version) }.join("\n")
            label = coords.as_of ? "Value as of #{iso(coords.as_of)}" : "Current value"
            body = <<~HTML
              <p class="crumbs">#{link("Stores", base, "/")} › #{link(data[:store], base, "/store", { "store" => data[:store] }.merge(coords.to_params))}</p>
              #{time_travel_form(request, "/key", keep, data[:time])}
              <section class="value-as-of" data-version="#{h(data[:current_version])}">
              <h2>#{h(label)}#{data[:current_version] ? " (version #{h(data[:current_version])})" : ""}</h2>
              #{data[:current_version] ? %(<pre class="value">#{json_pretty(data[:value_as_of])}</pre>) : %(<p class="none">no value#{coords.as_of ? " then" : ""}</p>)}
              </section>
              <h2>History <span class="count">#{h(data[:versions].size)} versions, newest first</span></h2>
              #{versions.empty? ? %(<p class="none">This key has no facts.</p>) : versions}
              <h2>Lineage</h2>
              #{tree(data[:lineage])}
            HTML
            layout(request, "#{data[:store]} / #{data[:key]}", :stores, body)
          end

          # `/fact?id=`: one fact, its causes and what it caused.
          def fact_page(request)
            base = request.script_name.to_s
            data = @read.fact(request.params["id"])
            raise NotFound, "No live fact has the id #{data[:id]} (it may have been compacted or pruned)" unless data[:found]

            fact = data[:fact]
            chain = data[:causation_chain].map do |cause|
              next %(<li class="missing">#{h(cause[:id])} — not in the ledger (compacted, pruned or external)</li>) if cause[:missing]

              %(<li>#{fact_link(base, cause[:id], full: true)} · #{link("#{cause[:store]} / #{cause[:key]}", base, "/key", "store" => cause[:store], "key" => cause[:key])} · #{time_tag(cause[:transaction_time])}</li>)
            end.join
            caused = data[:caused].map { |f| %(<li>#{fact_link(base, f[:id], full: true)} · #{time_tag(f[:transaction_time])}</li>) }.join
            body = <<~HTML
              <p class="crumbs">#{link("Stores", base, "/")} › #{link(fact[:store], base, "/store", "store" => fact[:store])} › #{link(fact[:key], base, "/key", "store" => fact[:store], "key" => fact[:key])}</p>
              #{hash_fields(base, fact.reject { |name, _| name == :value })}
              <h2>Value</h2>
              <pre class="value">#{json_pretty(fact[:value])}</pre>
              <h2>Causation chain <span class="count">ends: #{h(data[:chain_end])}</span></h2>
              <ol class="chain">#{chain.empty? ? %(<li class="none">no cause: the first fact of its chain</li>) : chain}</ol>
              <h2>Caused</h2>
              <ul class="chain">#{caused.empty? ? %(<li class="none">no later fact of this key names it as its cause</li>) : caused}</ul>
              <h2>Lineage of #{h(fact[:store])} / #{h(fact[:key])}</h2>
              #{tree(data[:lineage])}
            HTML
            layout(request, "Fact #{fact[:id]}", :stores, body)
          end

          private

          def store_table(base, stores, css)
            return %(<p class="none">The ledger holds no facts yet.</p>) if stores.empty?

            rows = stores.map do |s|
              <<~HTML
                <tr data-store="#{h(s[:store])}"><td>#{link(s[:store], base, "/store", "store" => s[:store])}</td>
                <td class="count">#{h(s[:facts])}</td><td class="count">#{h(s[:keys])}</td>
                <td>#{time_tag(s[:first_transaction_time])}</td><td>#{time_tag(s[:last_transaction_time])}</td></tr>
              HTML
            end.join
            %(<table class="#{h(css)}"><thead><tr><th>store</th><th>facts</th><th>keys</th><th>first write</th><th>last write</th></tr></thead><tbody>#{rows}</tbody></table>)
          end

          def scope_form(base, data, coords)
            return "" if data[:scopes].empty?

            options = ([["", "all keys"]] + data[:scopes].map { |s| [s, s] }).map do |value, text|
              %(<option value="#{h(value)}"#{value == data[:scope].to_s ? " selected" : ""}>#{h(text)}</option>)
            end.join
            hidden = { "store" => data[:store] }.merge(coords.to_params).map { |n, v| %(<input type="hidden" name="#{h(n)}" value="#{h(v)}">) }.join
            %(<form class="scope" method="get" action="#{url(base, "/store")}">#{hidden}<label>Scope <select name="scope">#{options}</select></label> <button type="submit">Filter</button></form>)
          end

          def pager(base, data, params)
            return %(<p class="pager">#{h(data[:total])} keys</p>) if data[:pages] <= 1

            prev_link = data[:page] > 1 ? link("‹ previous", base, "/store", params.merge("page" => data[:page] - 1, "per_page" => data[:per_page]), { rel: "prev" }) : ""
            next_link = data[:page] < data[:pages] ? link("next ›", base, "/store", params.merge("page" => data[:page] + 1, "per_page" => data[:per_page]), { rel: "next" }) : ""
            %(<p class="pager">#{prev_link} page #{h(data[:page])} of #{h(data[:pages])} (#{h(data[:total])} keys) #{next_link}</p>)
          end

          def version_section(base, data, version)
            css = ["version", ("current" if version[:current]), ("later" if version[:later])].compact.join(" ")
            marker = version[:current] ? %(<span class="badge">#{data[:time][:as_of] ? "current then" : "current"}</span>) : ""
            marker += %(<span class="badge later">after the chosen time</span>) if version[:later]
            travel = link("as of this version", base, "/key", "store" => data[:store], "key" => data[:key],
                                                              "as_of" => epoch(version[:transaction_time]))
            <<~HTML
              <section class="#{css}" data-version="#{h(version[:version])}">
              <header><strong>version #{h(version[:version])}</strong> #{marker} · #{time_tag(version[:transaction_time])} · #{fact_link(base, version[:id])} · #{travel}</header>
              #{diff_table(version)}
              <details><summary>full value</summary><pre class="value">#{json_pretty(version[:value])}</pre></details>
              </section>
            HTML
          end

          def diff_table(version)
            return %(<p class="none">same value as the version before</p>) if version[:diff].empty?

            rows = version[:diff].map do |change|
              %(<tr class="#{h(change[:change])}" data-path="#{h(change[:path])}"><td class="path">#{h(change[:path])}</td><td class="change">#{h(change[:change])}</td>) +
                %(<td class="from">#{change[:change] == "added" ? "" : "<code>#{json_literal(change[:from])}</code>"}</td>) +
                %(<td class="to">#{change[:change] == "removed" ? "" : "<code>#{json_literal(change[:to])}</code>"}</td></tr>)
            end.join
            %(<table class="diff"><thead><tr><th>field</th><th>change</th><th>before</th><th>after</th></tr></thead><tbody>#{rows}</tbody></table>)
          end

          def hash_fields(base, hash)
            rows = hash.map do |name, value|
              cell = name.to_s.end_with?("time") ? time_tag(value) : %(<code>#{json_text(value)}</code>)
              cell = fact_link(base, value, full: true) if name == :causation && value
              "<tr><th>#{h(name)}</th><td>#{cell}</td></tr>"
            end.join
            %(<table class="kv fact">#{rows}</table>)
          end

          def fact_link(base, id, full: false)
            return "—" if id.nil?

            link(full ? id : id.to_s[0, SHORT_ID], base, "/fact", { "id" => id }, { title: id, class: "fact-id" })
          end
        end
      end
    end
  end
end
