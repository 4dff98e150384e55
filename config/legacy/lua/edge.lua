-- The legacy layer's edge products (switchyard's "FL"): one module, run by nginx phases.
--
--   access:        head size (431) and method token (400), as the pipeline refuses them
--                  before any product → method check (405) → WAF (403) → rate limits (429/400)
--                  → CORS preflight (204/403) → redirects (3xx) → request header rules → proxy
--                  to the origin
--   header_filter: CORS response headers → response header rules (on every response)
--   refuse:        nginx's own 400, 414 and 494 (error_page), with the pipeline's JSON
--   method_not_allowed: nginx's own 405 (TRACE), as the method check answers it
--
-- The configuration is the JSON that switchyard generates from config/products.yaml at start
-- (src/legacy/legacy-layer.ts). docs/products.md describes each product; the new pipeline
-- implements the same behaviour and both pass test/conformance.
local cjson = require "cjson.safe"

local _M = {}
local cfg
local limits = ngx.shared.ratelimit

-- From cfg.edge (src/legacy/legacy-layer.ts): the methods the edge serves, and every method
-- token Node's HTTP parser knows (the pipeline's parser refuses any other with 400).
local METHODS, KNOWN, ALLOW

local function set_of(list)
  local t = {}
  for _, v in ipairs(list) do t[v] = true end
  return t
end

function _M.init(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  local decoded, err = cjson.decode(text)
  if not decoded then error("products config " .. path .. ": " .. tostring(err)) end
  cfg = decoded
  -- cjson.decode turns JSON null into a sentinel: normalise optional parts to nil.
  if cfg.cors == cjson.null then cfg.cors = nil end
  METHODS, KNOWN = set_of(cfg.edge.methods), set_of(cfg.edge.knownMethods)
  ALLOW = table.concat(cfg.edge.methods, ", ")
end

-- A local reply: status, headers, and an optional JSON body (Lua table) or none.
local function respond(status, headers, body)
  ngx.status = status
  if headers then for k, v in pairs(headers) do ngx.header[k] = v end end
  if body then
    local text = cjson.encode(body)
    ngx.header["Content-Type"] = "application/json"
    ngx.header["Content-Length"] = #text
    ngx.print(text)
  else
    -- No body, no type (nginx would otherwise add its default_type).
    ngx.header["Content-Type"] = nil
    ngx.header["Content-Length"] = 0
    ngx.send_headers()
  end
  return ngx.exit(status)
end

-- %XX sequences decoded; anything else (including malformed escapes and "+") left as is.
local function pct_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Exact "/a", or prefix "/a/**" (matching "/a" and "/a/…"); returns the match and the rest.
local function path_match(pattern, path)
  if pattern:sub(-3) == "/**" then
    local p = pattern:sub(1, -4)
    if p == "" then return true, path:sub(2) end
    if path == p then return true, "" end
    if path:sub(1, #p + 1) == p .. "/" then return true, path:sub(#p + 2) end
    return false
  end
  return path == pattern, ""
end

-- A header value without its surrounding whitespace (RFC 9110 §5.5: OWS is SP or HTAB). nginx
-- strips leading and trailing spaces but keeps tabs, Node strips both: without this, "\tsqlmap"
-- passes a "^sqlmap" WAF rule here and not in the pipeline (found by the differential fuzz).
local function trim(v)
  return (v:match("^[ \t]*(.-)[ \t]*$"))
end

-- Every line of a request header, trimmed, or nil (0: no count limit; the head's size is bounded
-- by large_client_header_buffers, as the pipeline's by its header size limit).
local function header_lines(name)
  local v = ngx.req.get_headers(0)[name]
  if v == nil then return nil end
  if type(v) ~= "table" then return { trim(v) } end
  local lines = {}
  for i, line in ipairs(v) do lines[i] = trim(line) end
  return lines
end

-- A request header as one value: repeated lines joined with ", " (RFC 9110 §5.3), as the
-- pipeline reads it; nil when absent.
local function header(name)
  local lines = header_lines(name)
  return lines and table.concat(lines, ", ")
end

local function split_uri()
  local uri = ngx.var.request_uri
  local q = uri:find("?", 1, true)
  if q then return uri:sub(1, q - 1), uri:sub(q + 1) end
  return uri, ""
end

-- The WAF's subjects for a rule: one string, or each line of a repeated header.
local function subjects(rule, path, query)
  if rule.field == "path" then return { pct_decode(path) } end
  if rule.field == "query" then return { pct_decode((query:gsub("%+", " "))) } end
  return header_lines(rule.field == "user_agent" and "user-agent" or rule.field:sub(8)) or {}
end

local function waf(path, query)
  for _, rule in ipairs(cfg.waf) do
    for _, subject in ipairs(subjects(rule, path, query)) do
      local from, _, err = ngx.re.find(subject, rule.pattern, rule.ignoreCase and "ijo" or "jo")
      -- PCRE gave up (match limit, JIT stack): fail closed, as the pipeline's WAF module does.
      if err then
        ngx.log(ngx.ERR, "waf rule ", rule.id, ": regex error, request blocked: ", err)
        return respond(403, nil, { error = "blocked", rule = rule.id })
      end
      if from then return respond(403, nil, { error = "blocked", rule = rule.id }) end
    end
  end
end

-- Token bucket per rule and key: `burst` tokens, refilled at `rate` per second.
local function rate_limits(path)
  for _, rl in ipairs(cfg.rateLimits) do
    if not rl.path or rl.path == cjson.null or path_match(rl.path, path) then
      local key
      if rl.key == "ip" then key = ngx.var.remote_addr else key = header(rl.key:sub(8)) end
      if not key or key == "" then
        if rl.missingKey == "reject" then
          return respond(400, nil, { error = "missing_rate_limit_key", rule = rl.id })
        end
      else
        local k = rl.id .. "\0" .. key
        local now = ngx.now()
        local tokens, ts = rl.burst, now
        local v = limits:get(k)
        if v then
          local t, s = v:match("^([^:]+):(.+)$")
          tokens, ts = tonumber(t), tonumber(s)
        end
        tokens = math.min(rl.burst, tokens + (now - ts) * rl.rate)
        if tokens < 1 then
          local retry = math.max(1, math.ceil((1 - tokens) / rl.rate))
          return respond(429, { ["Retry-After"] = tostring(retry) }, { error = "rate_limited", rule = rl.id })
        end
        limits:set(k, (tokens - 1) .. ":" .. now, math.ceil(rl.burst / rl.rate) + 1)
      end
    end
  end
end

local function origin_allowed(origin)
  for _, o in ipairs(cfg.cors.origins) do
    if o == "*" or o == origin then return true end
  end
  return false
end

local function cors_preflight()
  local cors = cfg.cors
  if not cors or ngx.req.get_method() ~= "OPTIONS" then return end
  local origin = header("origin")
  if not origin or not header("access-control-request-method") then return end
  ngx.ctx.preflight = true
  if not origin_allowed(origin) then
    return respond(403, nil, { error = "cors_origin_not_allowed" })
  end
  local h = {
    ["Access-Control-Allow-Origin"] = origin,
    ["Access-Control-Allow-Methods"] = table.concat(cors.methods, ", "),
    ["Access-Control-Max-Age"] = tostring(cors.maxAge),
    ["Vary"] = "Origin",
  }
  if #cors.headers > 0 then h["Access-Control-Allow-Headers"] = table.concat(cors.headers, ", ") end
  if cors.credentials then h["Access-Control-Allow-Credentials"] = "true" end
  return respond(204, h, nil)
end

local function redirects(path, query)
  for _, r in ipairs(cfg.redirects) do
    local ok, rest = path_match(r.from, path)
    if ok then
      local to = r.to:gsub("%$1", function() return rest end)
      if r.query == "keep" and query ~= "" then
        to = to .. (to:find("?", 1, true) and "&" or "?") .. query
      end
      return respond(r.status, { Location = to }, nil)
    end
  end
end

local function request_headers()
  for _, h in ipairs(cfg.requestHeaders) do
    if h.op == "set" then ngx.req.set_header(h.name, h.value)
    elseif h.op == "remove" then ngx.req.clear_header(h.name)
    else
      local cur = ngx.req.get_headers(0)[h.name]
      if cur == nil then ngx.req.set_header(h.name, h.value)
      elseif type(cur) == "table" then cur[#cur + 1] = h.value; ngx.req.set_header(h.name, cur)
      else ngx.req.set_header(h.name, { cur, h.value }) end
    end
  end
end

-- A refusal before any product (error_page /../refused/REASON): the pipeline's status and body.
function _M.refuse()
  local r = cfg.edge.refusals[ngx.var.uri:match("[^/]+$")]
  return respond(r.status, nil, r.body)
end

function _M.method_not_allowed()
  return respond(405, { Allow = ALLOW }, { error = "method_not_allowed" })
end

function _M.access()
  -- nginx's buffers take any head up to the limit and some above it: refuse those exactly
  -- ($request_length is the head until the body is read). ngx.exit hands both refusals to
  -- nginx's error_page, which answers them as it answers its own.
  if tonumber(ngx.var.request_length) > cfg.edge.maxHeadBytes then return ngx.exit(494) end
  local method = ngx.req.get_method()
  if not KNOWN[method] then return ngx.exit(ngx.HTTP_BAD_REQUEST) end
  if not METHODS[method] then return _M.method_not_allowed() end
  local path, query = split_uri()
  waf(path, query)
  rate_limits(path)
  cors_preflight()
  redirects(path, query)
  request_headers()
end

function _M.header_filter()
  local cors = cfg.cors
  -- ngx.var first: most responses have no Origin, and it costs no header table.
  if cors and not ngx.ctx.preflight and ngx.var.http_origin then
    local origin = header("origin")
    if origin and origin_allowed(origin) then
      ngx.header["Access-Control-Allow-Origin"] = origin
      if cors.credentials then ngx.header["Access-Control-Allow-Credentials"] = "true" end
      if #cors.exposeHeaders > 0 then ngx.header["Access-Control-Expose-Headers"] = table.concat(cors.exposeHeaders, ", ") end
      local vary = ngx.header["Vary"]
      ngx.header["Vary"] = vary and (type(vary) == "table" and table.concat(vary, ", ") or vary) .. ", Origin" or "Origin"
    end
  end
  for _, h in ipairs(cfg.responseHeaders) do
    if h.op == "set" then ngx.header[h.name] = h.value
    elseif h.op == "remove" then ngx.header[h.name] = nil
    else
      local cur = ngx.header[h.name]
      if cur == nil then ngx.header[h.name] = h.value
      elseif type(cur) == "table" then cur[#cur + 1] = h.value; ngx.header[h.name] = cur
      else ngx.header[h.name] = { cur, h.value } end
    end
  end
end

return _M
