# frozen_string_literal: true

module Igniter
  module Ledger
    class Console
      module Views
        # The pages about the running ledger: the live feed, storage
        # (compaction, recovery and quarantine) and status with charts.
        module OperationsPages
          # Compaction receipt fields shown in the storage table.
          RECEIPT_FIELDS = %i[compacted_store strategy compacted_count compacted_at].freeze
          # Quarantined span fields shown in the storage table.
          SPAN_FIELDS = %i[file offset length reason quarantine_path].freeze

          # `/feed?stores=`: facts as they are committed (filled by the script over SSE).
          def feed_page(request)
            base = request.script_name.to_s
            stores = request.params["stores"].to_s
            body = <<~HTML
              <form class="feed-filter" method="get" action="#{url(base, "/feed")}">
              <label>Stores <input type="text" name="stores" value="#{h(stores)}" placeholder="all — or a,b,c"></label>
              <button type="submit">Follow</button>
              </form>
              <p class="feed-state" id="feed-state" data-state="connecting">connecting…</p>
              <table class="feed" id="feed" data-src="#{url(base, "/api/events", "stores" => stores)}" data-fact-src="#{url(base, "/api/fact")}" data-base="#{h(base)}">
              <thead><tr><th>event</th><th>transaction time</th><th>store</th><th>key</th><th>value</th><th>fact</th></tr></thead>
              <tbody id="feed-rows"></tbody>
              </table>
              <noscript><p class="notice warn">The live feed needs JavaScript; <code>#{h("#{base}/api/events")}</code> is a Server-Sent Events stream.</p></noscript>
            HTML
            layout(request, "Live feed", :feed, body)
          end

          # `/storage`: compaction receipts and activity, recovery and quarantine reports.
          def storage_page(request)
            base = request.script_name.to_s
            data = @read.storage
            receipts = data[:compaction_receipts].map do |fact|
              value = fact[:value].is_a?(Hash) ? fact[:value] : {}
              RECEIPT_FIELDS.to_h { |f| [f, value[f]] }.merge(receipt: fact[:id], transaction_time: fact[:transaction_time])
            end
            spans = data[:quarantined].map { |span| SPAN_FIELDS.to_h { |f| [f, span[f] || span[f.to_s]] } }
            body = <<~HTML
              <p>Backend: <code>#{h(data[:backend])}</code></p>
              <h2>Quarantined spans <span class="count">#{h(spans.size)}</span></h2>
              #{spans.empty? ? %(<p class="none">nothing quarantined#{data[:recovery] ? "" : " (this backend keeps no recovery report)"}</p>) : records_table(spans, SPAN_FIELDS, css: "records quarantine")}
              <h2>Recovery report</h2>
              #{data[:recovery] ? tree(data[:recovery]) : %(<p class="none">this backend keeps no recovery report</p>)}
              <h2>Compaction receipts <span class="count">#{h(receipts.size)}</span></h2>
              #{receipt_table(base, receipts)}
              <h2>Compaction activity</h2>
              #{records_table(data[:compaction_activity])}
              <h2>Storage statistics</h2>
              #{data[:storage_stats] ? tree(data[:storage_stats]) : %(<p class="none">this backend reports no storage statistics</p>)}
            HTML
            layout(request, "Storage", :storage, body)
          end

          # `/status`: health, counts and charts of the metrics (sampled by the script).
          def status_page(request)
            base = request.script_name.to_s
            data = @status.snapshot
            ledger = data[:ledger]
            alerts = data[:alerts].map { |a| %(<li>#{h(a[:message] || a["message"] || a.to_s)}</li>) }.join
            body = <<~HTML
              <section class="cards">
              <div class="card"><span class="label">status</span><span class="number" id="status-status">#{h(data[:status])}</span></div>
              <div class="card"><span class="label">facts</span><span class="number" id="status-facts">#{h(ledger[:fact_count])}</span></div>
              <div class="card"><span class="label">stores</span><span class="number">#{h(ledger[:store_count])}</span></div>
              <div class="card"><span class="label">keys</span><span class="number">#{h(ledger[:key_count])}</span></div>
              <div class="card"><span class="label">uptime</span><span class="number">#{data[:uptime_ms] ? h("#{(data[:uptime_ms] / 1000.0).round(1)} s") : "—"}</span></div>
              </section>
              <p class="hint">Source: #{data[:source] == "server" ? "the server's observability snapshot" : "the store itself (not mounted in a server)"}; charts sample <code>#{h("#{base}/api/status")}</code> every 2 s while this page is open.</p>
              <section class="charts" id="charts" data-src="#{url(base, "/api/status")}" data-interval="2000"></section>
              <h2>Alerts</h2>
              #{alerts.empty? ? %(<p class="none">none</p>) : %(<ul class="alerts">#{alerts}</ul>)}
              <h2>Metrics</h2>
              #{tree(data[:metrics])}
              <h2>Server</h2>
              #{tree(data[:server])}
              <h2>Changefeed</h2>
              #{tree(data[:changefeed])}
            HTML
            layout(request, "Status", :status, body)
          end

          private

          def receipt_table(base, receipts)
            return %(<p class="none">no compaction has run</p>) if receipts.empty?

            rows = receipts.map do |r|
              "<tr><td>#{link(r[:compacted_store], base, "/store", "store" => r[:compacted_store])}</td><td>#{h(r[:strategy])}</td>" \
                "<td class=\"count\">#{h(r[:compacted_count])}</td><td>#{time_tag(r[:transaction_time])}</td>" \
                "<td>#{fact_link(base, r[:receipt])}</td></tr>"
            end.join
            %(<table class="records receipts"><thead><tr><th>store</th><th>strategy</th><th>facts dropped</th><th>at</th><th>receipt</th></tr></thead><tbody>#{rows}</tbody></table>)
          end
        end
      end
    end
  end
end
