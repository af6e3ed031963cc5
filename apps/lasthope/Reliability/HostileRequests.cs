using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lasthope.Cli.Reliability;

/// <summary>
/// The fuzz drill's seeded generator of hostile requests over every endpoint (the API, health, metrics, the OpenAPI
/// document and its reference page): random bytes, truncated and deeply nested
/// JSON, wrong types, 1e400 and NaN, huge and negative counts, control characters and 100,000-character ids,
/// duplicated keys, wrong content types, path traversal in ids, bad methods, bad query strings, garbage models,
/// malformed HTTP, missing or wrong keys, unknown paths, and some valid requests among them. Request i depends only
/// on the seed and i, so a request that caused a 5xx can be made again.
/// </summary>
public sealed class HostileRequests(int seed)
{
    private const string Placeholder = "RAW-PLACEHOLDER-7f3a";

    private static readonly byte[] PlaceholderToken = Encoding.UTF8.GetBytes($"\"{Placeholder}\"");

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly (string Kind, int Weight, Func<Random, int, HostileRequest> Make)[] Kinds =
    [
        ("valid", 8, Valid),
        ("random-bytes", 6, RandomBytes),
        ("truncated-json", 6, Truncated),
        ("deep-nesting", 5, DeepNesting),
        ("wrong-types", 8, WrongTypes),
        ("bad-numbers", 8, BadNumbers),
        ("huge-counts", 5, HugeCounts),
        ("control-chars", 7, ControlChars),
        ("long-ids", 4, LongIds),
        ("duplicate-keys", 5, DuplicateKeys),
        ("content-type", 5, ContentTypes),
        ("path-ids", 8, PathIds),
        ("bad-query", 5, BadQueries),
        ("bad-method", 5, BadMethods),
        ("garbage-model", 6, GarbageModels.Request),
        ("malformed-http", 8, MalformedHttp.Request),
        ("auth", 3, Auth),
        ("unknown-path", 3, UnknownPaths),
        ("oversized-body", 1, Oversized),
    ];

    private static readonly int TotalWeight = Kinds.Sum(k => k.Weight);

    /// <summary>The kinds this generator makes, for the report.</summary>
    public static IEnumerable<string> KindNames => Kinds.Select(k => k.Kind);

    /// <summary>Request <paramref name="index"/> of the run.</summary>
    public HostileRequest Create(int index)
    {
        var random = new Random(unchecked((seed * 1_000_003) + index));
        var pick = random.Next(TotalWeight);
        foreach (var (_, weight, make) in Kinds)
        {
            if (pick < weight)
            {
                return make(random, index);
            }

            pick -= weight;
        }

        throw new InvalidOperationException("unreachable: the weights cover every pick");
    }

    // ---- valid bodies, the material the mutations start from ----

    internal static string Item(Random r) => $"fz-i{r.Next(200).ToString(CultureInfo.InvariantCulture)}";

    internal static string User(Random r) => $"fz-u{r.Next(500).ToString(CultureInfo.InvariantCulture)}";

    internal static JsonObject RankBody(Random r, int index)
    {
        var candidates = new JsonArray();
        foreach (var _ in Enumerable.Range(0, r.Next(1, 30)))
        {
            candidates.Add(r.Next(4) == 0 ? new JsonObject { ["id"] = Item(r), ["features"] = new JsonObject { ["price"] = Math.Round(r.NextDouble() * 100, 2) } } : (JsonNode)Item(r));
        }

        var body = new JsonObject
        {
            ["requestId"] = $"fz-r{index.ToString(CultureInfo.InvariantCulture)}",
            ["surface"] = "home",
            ["user"] = new JsonObject { ["id"] = User(r), ["age"] = r.Next(15, 90), ["gender"] = r.Next(2) == 0 ? "f" : "m" },
            ["candidates"] = candidates,
            ["count"] = r.Next(1, 12),
        };
        if (r.Next(3) == 0)
        {
            body["exclude"] = new JsonArray(Item(r), Item(r));
        }

        if (r.Next(4) == 0)
        {
            body["rerankDepth"] = r.Next(0, 50);
            body["budgetMs"] = r.Next(10, 80);
        }

        return body;
    }

    internal static JsonObject RecommendBody(Random r) => new()
    {
        ["user"] = new JsonObject { ["id"] = User(r), ["age"] = r.Next(15, 90), ["gender"] = "f" },
        ["count"] = r.Next(1, 20),
        ["exclude"] = new JsonArray(Item(r)),
        ["filterSeen"] = r.Next(2) == 0,
        ["interactions"] = new JsonArray(new JsonObject { ["itemId"] = Item(r), ["weight"] = 1 }),
    };

    internal static JsonObject EventsBody(Random r, int index)
    {
        var events = new JsonArray();
        foreach (var i in Enumerable.Range(0, r.Next(1, 8)))
        {
            var e = new JsonObject
            {
                ["eventId"] = $"fz-e{index.ToString(CultureInfo.InvariantCulture)}-{i.ToString(CultureInfo.InvariantCulture)}",
                ["type"] = r.Next(5) == 0 ? "conversion" : "click",
                ["itemId"] = Item(r),
                ["userId"] = User(r),
            };
            if (index > 0 && r.Next(2) == 0)
            {
                e["requestId"] = $"fz-r{r.Next(index).ToString(CultureInfo.InvariantCulture)}";
            }

            events.Add(e);
        }

        return new JsonObject { ["events"] = events };
    }

    /// <summary>A valid POST /v1/items body: a few items with a category and numeric attributes.</summary>
    internal static JsonObject ItemsBody(Random r)
    {
        var items = new JsonArray();
        for (var i = r.Next(1, 6); i > 0; i--)
        {
            var attributes = new JsonObject { ["price"] = Math.Round(r.NextDouble() * 100, 2), ["quality_signal"] = Math.Round(1 + (r.NextDouble() * 4), 1) };
            items.Add(new JsonObject { ["id"] = Item(r), ["category"] = $"c{r.Next(10).ToString(CultureInfo.InvariantCulture)}", ["attributes"] = attributes });
        }

        return new JsonObject { ["items"] = items };
    }

    /// <summary>One of the seven JSON endpoints with a valid body to mutate.</summary>
    private static (string Target, JsonObject Body) JsonEndpoint(Random r, int index) => r.Next(7) switch
    {
        0 => ("/v1/rank", RankBody(r, index)),
        1 => ("/v1/recommend", RecommendBody(r)),
        2 => ("/v1/items", ItemsBody(r)),
        3 => (FuzzPredictor.Path, FuzzPredictor.Body(r)),
        4 => (FuzzText.Path, FuzzText.Body(r)),
        5 => (FuzzText.EditNeedPath, FuzzText.EditNeedBody(r)),
        _ => ("/v1/events", EventsBody(r, index)),
    };

    internal static byte[] Serialize(JsonNode node, Random r) => Encoding.UTF8.GetBytes(r.Next(2) == 0 ? node.ToJsonString() : node.ToJsonString(Relaxed));

    private static HostileRequest Json(string kind, string target, byte[] body) => new(kind, "POST", target, "application/json", body);

    // ---- the kinds ----

    private static HostileRequest Valid(Random r, int index)
    {
        var item = Item(r);
        return r.Next(19) switch
        {
            17 => Json("valid", FuzzText.Path, Serialize(FuzzText.Body(r), r)),
            18 => new("valid", "GET", "/v1/text"),
            14 => new("valid", "GET", "/openapi/v1.json"),
            15 => new("valid", "GET", "/docs"),
            16 => new("valid", "GET", "/metrics"),
            0 or 1 or 2 => Json("valid", "/v1/rank", Serialize(RankBody(r, index), r)),
            3 => Json("valid", "/v1/recommend", Serialize(RecommendBody(r), r)),
            4 => Json("valid", "/v1/events", Serialize(EventsBody(r, index), r)),
            5 => Json("valid", "/v1/items", Serialize(ItemsBody(r), r)),
            6 => new("valid", "GET", $"/v1/items/{item}/stats"),
            7 => new("valid", "GET", $"/v1/rank/fz-r{r.Next(Math.Max(1, index)).ToString(CultureInfo.InvariantCulture)}/explain{(r.Next(2) == 0 ? "?method=shap" : string.Empty)}"),
            8 => new("valid", "GET", $"/v1/similar/{item}?count=5"),
            9 => new("valid", "GET", "/v1/models"),
            10 => new("valid", "GET", "/v1/status"),
            11 => new("valid", "GET", "/health/live"),
            12 => new("valid", "GET", "/health/ready"),
            13 => Json("valid", FuzzPredictor.Path, Serialize(FuzzPredictor.Body(r), r)),
            _ => new("valid", "GET", "/metrics"),
        };
    }

    private static HostileRequest RandomBytes(Random r, int index)
    {
        var body = new byte[r.Next(0, 4_096)];
        r.NextBytes(body);
        var target = r.Next(4) == 0 ? "/v1/models?surface=home" : JsonEndpoint(r, index).Target;
        return Json("random-bytes", target, body);
    }

    private static HostileRequest Truncated(Random r, int index)
    {
        var (target, node) = JsonEndpoint(r, index);
        var body = Serialize(node, r);
        return Json("truncated-json", target, body[..r.Next(0, body.Length)]);
    }

    private static HostileRequest DeepNesting(Random r, int index)
    {
        int[] depths = [65, 1_000, 20_000, 200_000];
        var depth = depths[r.Next(depths.Length)];
        var (target, _) = JsonEndpoint(r, index);
        var closed = r.Next(4) != 0;
        var text = new StringBuilder();
        switch (r.Next(3))
        {
            case 0:
                text.Append('[', depth);
                if (closed)
                {
                    text.Append(']', depth);
                }

                break;
            case 1:
                text.Append("{\"user\":{\"id\":\"u\"},\"candidates\":");
                text.Append('[', depth).Append("\"a\"");
                if (closed)
                {
                    text.Append(']', depth);
                }

                text.Append('}');
                break;
            default:
                text.Insert(0, "{\"a\":", depth).Append("1");
                if (closed)
                {
                    text.Append('}', depth);
                }

                break;
        }

        return Json("deep-nesting", target, Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>Every (parent, key) place in the tree where a value sits, for a mutation to replace.</summary>
    private static List<(JsonNode Parent, object Key)> Places(JsonNode node)
    {
        var places = new List<(JsonNode, object)>();
        Walk(node);
        return places;

        void Walk(JsonNode current)
        {
            switch (current)
            {
                case JsonObject o:
                    foreach (var (key, value) in o.ToList())
                    {
                        places.Add((o, key));
                        if (value is not null)
                        {
                            Walk(value);
                        }
                    }

                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        places.Add((a, i));
                        if (a[i] is { } child)
                        {
                            Walk(child);
                        }
                    }

                    break;
                default:
                    break;
            }
        }
    }

    private static void Replace((JsonNode Parent, object Key) place, JsonNode? value)
    {
        if (place.Parent is JsonObject o)
        {
            o[(string)place.Key] = value;
        }
        else
        {
            ((JsonArray)place.Parent)[(int)place.Key] = value;
        }
    }

    /// <summary>The body with the value at a random place (or at <paramref name="name"/> when the tree has it) spliced in as raw JSON text.</summary>
    private static byte[] WithRaw(JsonObject body, Random r, byte[] raw, Func<(JsonNode Parent, object Key), bool>? where = null)
    {
        var places = Places(body);
        var chosen = places.Where(p => where?.Invoke(p) ?? true).ToList();
        var place = chosen.Count > 0 ? chosen[r.Next(chosen.Count)] : places[r.Next(places.Count)];
        Replace(place, Placeholder);
        var text = Serialize(body, r);
        var at = text.AsSpan().IndexOf(PlaceholderToken);
        return [.. text.AsSpan(0, at), .. raw, .. text.AsSpan(at + PlaceholderToken.Length)];
    }

    private static HostileRequest WrongTypes(Random r, int index)
    {
        string[] values = ["0", "-1", "1.5", "true", "false", "null", "\"\"", "\"x\"", "[]", "[1]", "{}", "{\"id\":1}", "[[]]", "[null]", "\"1e400\"", "{\"$ref\":\"#\"}"];
        var (target, body) = JsonEndpoint(r, index);
        return Json("wrong-types", target, WithRaw(body, r, Encoding.UTF8.GetBytes(values[r.Next(values.Length)])));
    }

    private static readonly string[] HostileNumbers =
    [
        "1e400", "-1e400", "NaN", "-NaN", "Infinity", "-Infinity", "1e-400", "-0", "0.0000000000000000000001",
        "123456789012345678901234567890", "2147483648", "-2147483649", "9223372036854775808", "1.7976931348623157e309",
        "0x10", "01", ".5", "+1", "1.", "1e", "--1", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"1e400\"", "1E+9999999999",
    ];

    private static bool IsNumber((JsonNode Parent, object Key) place)
        => (place.Parent is JsonObject o ? o[(string)place.Key] : ((JsonArray)place.Parent)[(int)place.Key]) is JsonValue v && v.GetValueKind() == JsonValueKind.Number;

    private static HostileRequest BadNumbers(Random r, int index)
    {
        var number = Encoding.UTF8.GetBytes(HostileNumbers[r.Next(HostileNumbers.Length)]);
        if (r.Next(5) == 0)
        {
            // A feature value or an event time: numbers where the parser meets them last.
            var rank = RankBody(r, index);
            rank["candidates"] = new JsonArray(new JsonObject { ["id"] = Item(r), ["features"] = new JsonObject { ["price"] = 1 } });
            return Json("bad-numbers", "/v1/rank", WithRaw(rank, r, number, p => p.Key is "price"));
        }

        var (target, body) = JsonEndpoint(r, index);
        return Json("bad-numbers", target, WithRaw(body, r, number, IsNumber));
    }

    private static HostileRequest HugeCounts(Random r, int index)
    {
        string[] counts = ["2147483647", "-1", "0", "-2147483648", "100000", "1000000000", "2147483648", "4294967296"];
        switch (r.Next(6))
        {
            case 0:
            {
                // Over and at the candidate limit (10,000 by default), or many exclusions.
                var rank = RankBody(r, index);
                var n = r.Next(3) switch { 0 => 10_001, 1 => 10_000, _ => 50_000 };
                var list = new JsonArray();
                for (var i = 0; i < n; i++)
                {
                    list.Add($"fz-big{i.ToString(CultureInfo.InvariantCulture)}");
                }

                rank[r.Next(2) == 0 ? "candidates" : "exclude"] = list;
                rank["count"] = r.Next(2) == 0 ? 10 : int.MaxValue;
                return Json("huge-counts", "/v1/rank", Serialize(rank, r));
            }

            case 1:
            {
                // Over the batch limit (10,000 events by default).
                var events = new JsonArray();
                for (var i = 0; i < 10_001; i++)
                {
                    events.Add(new JsonObject { ["eventId"] = $"fz-big{index.ToString(CultureInfo.InvariantCulture)}-{i.ToString(CultureInfo.InvariantCulture)}", ["itemId"] = "fz-i1" });
                }

                return Json("huge-counts", "/v1/events", Serialize(new JsonObject { ["events"] = events }, r));
            }

            case 2:
                return new("huge-counts", "GET", $"/v1/similar/{Item(r)}?count={counts[r.Next(counts.Length)]}");
            default:
            {
                var (target, body) = JsonEndpoint(r, index);
                if (target == "/v1/events")
                {
                    body = RankBody(r, index);
                    target = "/v1/rank";
                }

                var field = r.Next(3) switch { 0 => "count", 1 when target == "/v1/rank" => "rerankDepth", _ => "budgetMs" };
                body[field] = Placeholder;
                var text = Serialize(body, r);
                var at = text.AsSpan().IndexOf(PlaceholderToken);
                byte[] raw = Encoding.UTF8.GetBytes(field == "budgetMs" ? (r.Next(2) == 0 ? "1e308" : "-1") : counts[r.Next(counts.Length)]);
                return Json("huge-counts", target, [.. text.AsSpan(0, at), .. raw, .. text.AsSpan(at + PlaceholderToken.Length)]);
            }
        }
    }

    /// <summary>A JSON string token that is hostile to an id field: escaped and raw control characters, lone surrogates, invalid UTF-8, odd Unicode.</summary>
    internal static byte[] HostileStringToken(Random r)
    {
        byte[] Escaped(string s) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(s, Relaxed));
        return r.Next(14) switch
        {
            0 => Escaped(new string((char)r.Next(0, 0x20), r.Next(1, 20))),
            1 => Escaped($"a{(char)r.Next(0, 0x20)}b"),
            2 => [(byte)'"', (byte)'a', (byte)r.Next(0, 0x20), (byte)'b', (byte)'"'], // a raw control byte: invalid JSON
            3 => Encoding.UTF8.GetBytes("\"\\ud800\""), // a lone surrogate, escaped
            4 => Encoding.UTF8.GetBytes("\"a\\udfffb\\ud800\""),
            5 => [(byte)'"', 0xc0, 0xaf, (byte)'"'], // overlong UTF-8 for '/'
            6 => [(byte)'"', 0xff, 0xfe, (byte)'"'],
            7 => [(byte)'"', 0xed, 0xa0, 0x80, (byte)'"'], // a surrogate encoded in UTF-8
            8 => Escaped("\u202e\u200b\ufeff\uffff\ufffe\u0085\u2028\u2029"),
            9 => Escaped("../../../../etc/passwd"),
            10 => Escaped("'; DROP TABLE events; --"),
            11 => Escaped("%s%n%x{0}${jndi:ldap://127.0.0.1/a}<script>"),
            12 => Escaped(string.Empty),
            _ => Escaped(" \t "),
        };
    }

    private static bool IsString((JsonNode Parent, object Key) place)
        => (place.Parent is JsonObject o ? o[(string)place.Key] : ((JsonArray)place.Parent)[(int)place.Key]) is JsonValue v && v.GetValueKind() == JsonValueKind.String;

    private static HostileRequest ControlChars(Random r, int index)
    {
        var (target, body) = JsonEndpoint(r, index);
        if (r.Next(5) == 0)
        {
            // In a feature name or a property name, not a value.
            var name = HostileStringToken(r);
            var text = Serialize(body, r);
            return Json("control-chars", target, [(byte)'{', .. name, (byte)':', (byte)'1', (byte)',', .. text.AsSpan(1)]);
        }

        return Json("control-chars", target, WithRaw(body, r, HostileStringToken(r), IsString));
    }

    /// <summary>A 100,000-character id, of one of a few kinds of character.</summary>
    internal static string LongId(Random r) => r.Next(4) switch
    {
        0 => new string('a', 100_000),
        1 => string.Concat(Enumerable.Range(0, 50_000).Select(_ => "\U0001F600")),
        2 => new string((char)0x1f, 100_000),
        _ => new string([.. Enumerable.Range(0, 100_000).Select(_ => (char)r.Next(0x21, 0x7f))]),
    };

    private static HostileRequest LongIds(Random r, int index)
    {
        var id = LongId(r);
        if (r.Next(4) == 0)
        {
            // In the path: far beyond the request line limit.
            return new("long-ids", "GET", $"/v1/items/{Uri.EscapeDataString(id)}/stats");
        }

        var (target, body) = JsonEndpoint(r, index);
        return Json("long-ids", target, WithRaw(body, r, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(id, Relaxed)), IsString));
    }

    private static HostileRequest DuplicateKeys(Random r, int index)
    {
        var (target, body) = JsonEndpoint(r, index);
        var text = Encoding.UTF8.GetString(Serialize(body, r));
        var inner = text[1..^1];
        var properties = body.Select(p => p.Key).ToList();
        var key = properties[r.Next(properties.Count)];
        string[] second = ["null", "5", "\"x\"", "[]", "{}", "{\"id\":\"other\"}", "[\"other\"]"];
        var json = r.Next(4) switch
        {
            0 => $"{{{inner},\"{key}\":{second[r.Next(second.Length)]}}}",
            1 => $"{{\"{key}\":{second[r.Next(second.Length)]},{inner}}}",
            2 => $"{{{inner},{inner}}}",
            _ => "{" + string.Join(',', Enumerable.Repeat("\"count\":1", r.Next(2, 20_000))) + "," + inner + "}",
        };
        if (target == "/v1/rank" && r.Next(3) == 0)
        {
            json = json.Replace("\"user\":{\"id\":", "\"user\":{\"id\":\"first\",\"id\":", StringComparison.Ordinal);
        }

        return Json("duplicate-keys", target, Encoding.UTF8.GetBytes(json));
    }

    private static HostileRequest ContentTypes(Random r, int index)
    {
        string?[] types =
        [
            null, "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=----x",
            "application/json; charset=utf-16", "application/json; charset=latin1", "application/json; charset=nonsense",
            "application/jsonp", "application/problem+json", "*/*", "application/json;;;", "image/png", "json", ";", "\u00e9/\u00e9",
        ];
        var (target, body) = JsonEndpoint(r, index);
        var type = types[r.Next(types.Length)];
        var bytes = type is not null && type.Contains("utf-16", StringComparison.Ordinal) && r.Next(2) == 0
            ? Encoding.Unicode.GetBytes(body.ToJsonString())
            : Serialize(body, r);
        var request = new HostileRequest("content-type", "POST", target, type, bytes) { Variant = type ?? "no content type" };
        return r.Next(4) == 0 ? request with { Headers = ["Content-Encoding: gzip"] } : request;
    }

    /// <summary>Hostile path segments, as they go on the wire (already percent-encoded where meant to be).</summary>
    internal static readonly string[] HostileSegments =
    [
        "..%2F..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..%5C..%5Cwindows%5Cwin.ini", "%252e%252e%252f", "%00", "a%00b",
        "%0d%0aSet-Cookie:%20x=1", "%C0%AF", "%FF%FE", "%F0%9F%98%80", "%ED%A0%80", "~", "*", ".", "..", "%2e", "%2e%2e", "con", "a%2Fb", "%", "%zz",
        "%u002e", "%1f", "a%1fb", "%7f", "'%3B%20DROP%20TABLE%20events%3B--", "%24%7Bjndi%3Aldap%3A%2F%2F127.0.0.1%2Fa%7D", "%20", "+",
        "%E2%80%AE", "%EF%BB%BF", "a;b=c", "a?b", "a#b",
    ];

    private static string Segment(Random r) => r.Next(6) == 0 ? Uri.EscapeDataString(LongId(r)[..r.Next(10, 3_000)]) : HostileSegments[r.Next(HostileSegments.Length)];

    private static HostileRequest PathIds(Random r, int index)
    {
        var segment = Segment(r);
        return r.Next(8) switch
        {
            7 => Json("path-ids", $"/v1/text/{segment}", Serialize(FuzzText.Body(r), r)),
            6 => Json("path-ids", $"/v1/predict/{segment}", Serialize(FuzzPredictor.Body(r), r)),
            0 => new("path-ids", "GET", $"/v1/items/{segment}/stats"),
            1 => new("path-ids", "GET", $"/v1/rank/{segment}/explain"),
            2 => new("path-ids", "GET", $"/v1/similar/{segment}"),
            3 => new("path-ids", "POST", $"/v1/models/{segment}/activate"),
            4 => new("path-ids", "POST", $"/v1/surfaces/{segment}/deactivate"),
            _ => new("path-ids", "GET", $"/v1/items/{segment}/{segment}/stats"),
        };
    }

    private static HostileRequest BadQueries(Random r, int index)
    {
        string[] values = ["-1", "1e400", "NaN", "99999999999999999999", "abc", string.Empty, "%00", "1&count=2", "0x10", "%FF", "2147483648", "true"];
        var value = values[r.Next(values.Length)];
        return r.Next(7) switch
        {
            0 => new("bad-query", "GET", $"/v1/similar/{Item(r)}?count={value}"),
            1 => new("bad-query", "GET", $"/v1/rank/fz-r{index.ToString(CultureInfo.InvariantCulture)}/explain?method={value}"),
            2 => new("bad-query", "POST", $"/v1/models?surface={Segment(r)}&activate={value}", "application/octet-stream", GarbageModels.LightGbmTemplateBytes),
            3 => new("bad-query", "POST", $"/v1/models?surface=home&version={Segment(r)}", "application/octet-stream", GarbageModels.LightGbmTemplateBytes),
            4 => new("bad-query", "POST", $"/v1/models/fz-v1/activate?surface={Segment(r)}"),
            5 => new("bad-query", "GET", $"/v1/status?{string.Join('&', Enumerable.Repeat("a=b", r.Next(1, 2_000)))}"),
            _ => new("bad-query", "POST", "/v1/models", "application/octet-stream", GarbageModels.LightGbmTemplateBytes),
        };
    }

    /// <summary>Every endpoint, with the method it takes and a valid body where it takes one.</summary>
    private static (string Method, string Target, byte[]? Body) Endpoint(Random r, int index) => r.Next(16) switch
    {
        14 => ("GET", $"/openapi/{(r.Next(2) == 0 ? "v1" : Segment(r))}.json", null),
        15 => ("GET", "/docs", null),
        0 => ("POST", "/v1/rank", Serialize(RankBody(r, index), r)),
        1 => ("POST", "/v1/recommend", Serialize(RecommendBody(r), r)),
        2 => ("POST", "/v1/events", Serialize(EventsBody(r, index), r)),
        3 => ("GET", $"/v1/items/{Item(r)}/stats", null),
        4 => ("GET", "/v1/rank/fz-r1/explain", null),
        5 => ("GET", $"/v1/similar/{Item(r)}", null),
        6 => ("POST", "/v1/models?surface=home", GarbageModels.LightGbmTemplateBytes),
        7 => ("GET", "/v1/models", null),
        8 => ("POST", "/v1/models/fz-v1/activate", null),
        9 => ("POST", "/v1/surfaces/home/deactivate", null),
        10 => ("GET", "/v1/status", null),
        11 => ("GET", "/health/live", null),
        12 => ("GET", "/health/ready", null),
        _ => ("GET", "/metrics", null),
    };

    private static HostileRequest BadMethods(Random r, int index)
    {
        var (method, target, body) = Endpoint(r, index);
        string[] methods = ["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO", "M-SEARCH", "PROPFIND", method == "GET" ? "POST" : "GET"];
        var bad = methods[r.Next(methods.Length)];
        return new("bad-method", bad, target, body is null ? null : "application/json", bad == "HEAD" ? null : body);
    }

    private static HostileRequest Auth(Random r, int index)
    {
        var (method, target, body) = Endpoint(r, index);
        var mode = r.Next(3) switch { 0 => AuthMode.None, 1 => AuthMode.WrongKey, _ => AuthMode.Malformed };
        return new("auth", method, target, body is null ? null : "application/json", body) { Auth = mode };
    }

    private static HostileRequest UnknownPaths(Random r, int index)
    {
        string[] paths = ["/", "/v1", "/v1/", "/v2/rank", "/v1/rank/", "/v1/rank/x/y/z", "/admin", "/.env", "/v1/items", "/v1/items//stats", "/health", "/metrics/x", "/v1/models/x", "/favicon.ico", "/v1/RANK", "//v1//rank"];
        var path = paths[r.Next(paths.Length)];
        return r.Next(2) == 0 ? new("unknown-path", "GET", path) : Json("unknown-path", path, Serialize(RankBody(r, index), r));
    }

    private static HostileRequest Oversized(Random r, int index)
    {
        // Just above the default request body limit (Ranking:MaxBodyBytes, 8 MiB): valid JSON padded with spaces.
        var body = Serialize(RankBody(r, index), r);
        var padded = new byte[(8 * 1024 * 1024) + 1];
        padded.AsSpan().Fill((byte)' ');
        body.CopyTo(padded, 0);
        var (target, _) = JsonEndpoint(r, index);
        return Json("oversized-body", target, padded);
    }
}
