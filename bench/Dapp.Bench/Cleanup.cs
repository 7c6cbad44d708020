using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Dapp.Bench;

/// <summary>
/// <c>stages cleanup repo --improper-repo-cache</c> on a large repository (docs/cleanup.md): 2,000 stage tags made
/// cheaply through the registry API (400 chains of 5 stages: one shared small base layer and a tiny layer of its own per
/// stage, a distinct config and manifest per tag, built 3 hours ago), 10 chains named by dimg tags. The cleanup, run
/// through scripts/dapp, must keep exactly those 10 chains (50 stages) and delete the other 1,950 in under 60 s.
/// </summary>
public static partial class Cleanup
{
    private const int Chains = 400;
    private const int StagesPerChain = 5;
    private const int Tagged = 10;

    public static async Task<int> RunAsync(string root, Tools tools, int runs, string registry, string? output)
    {
        var results = new Dictionary<string, List<double>>();
        var work = Directory.CreateTempSubdirectory("dapp-bench-cleanup-").FullName;
        await File.WriteAllTextAsync(Path.Combine(work, "dappfile.yml"), "dimg: app\nfrom: dapp-examples/busybox:1.35\n");
        using var http = new HttpClient { BaseAddress = new Uri($"http://{registry}/") };
        try
        {
            for (int run = 1; run <= runs; run++)
            {
                var name = $"bench/cleanup-{DateTime.UtcNow:yyyyMMddHHmmss}-{run}";
                Console.WriteLine($"run {run}/{runs}: making {Chains * StagesPerChain} stage tags and {Tagged} dimg tags in {registry}/{name}");
                var made = System.Diagnostics.Stopwatch.StartNew();
                await MakeAsync(http, name);
                Console.WriteLine($"  made in {made.Elapsed.TotalSeconds:0.0} s");
                // The same reads without the deletes: how the time splits between reading the repository and deleting.
                var dry = await tools.MustAsync(tools.DappAsync(tools.EngineA, work, "dimg", "stages", "cleanup", "repo", "--improper-repo-cache", "--dry-run",
                    $"{registry}/{name}", "--name", "bench-cleanup"), "stages cleanup repo --dry-run");
                Add(results, "the same, --dry-run (list and read, no delete)", dry.Elapsed.TotalSeconds);
                Console.WriteLine($"  dry run {dry.Elapsed.TotalSeconds:0.000} s");
                var cleanup = await tools.MustAsync(tools.DappAsync(tools.EngineA, work, "dimg", "stages", "cleanup", "repo", "--improper-repo-cache",
                    $"{registry}/{name}", "--name", "bench-cleanup"), "stages cleanup repo");
                var summary = SummaryLine().Match(cleanup.Stdout);
                if (!summary.Success) throw new InvalidOperationException("no summary in:\n" + cleanup.Stdout);
                var left = (await TagsAsync(http, name)).Count(t => t.StartsWith("dimgstage-", StringComparison.Ordinal));
                Console.WriteLine($"  {summary.Value}; {left} stage tags left");
                if (left != Tagged * StagesPerChain || summary.Groups[1].Value != ((Chains - Tagged) * StagesPerChain).ToString(CultureInfo.InvariantCulture))
                    throw new InvalidOperationException($"expected {Tagged * StagesPerChain} stages left, found {left}: {summary.Value}");
                Add(results, "stages cleanup repo --improper-repo-cache, 2000 stage tags", cleanup.Elapsed.TotalSeconds);
                Console.WriteLine($"  cleanup {cleanup.Elapsed.TotalSeconds:0.000} s");
            }
        }
        finally
        {
            Directory.Delete(work, true);
        }
        var medians = results.ToDictionary(r => r.Key, r => r.Value.Order().ElementAt(r.Value.Count / 2));
        foreach (var (what, median) in medians) Console.WriteLine($"| {what} (median of {runs}) | {median.ToString("0.000", CultureInfo.InvariantCulture)} s |");
        var path = output ?? Path.Combine(root, "bench", "results", "cleanup.json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(new { runs, date = DateTime.UtcNow.ToString("u"), values = results, medians },
            new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"\nwritten {path}");
        return 0;
    }

    private static void Add(Dictionary<string, List<double>> results, string what, double value)
    {
        if (!results.TryGetValue(what, out var list)) results[what] = list = [];
        list.Add(value);
    }

    private static async Task MakeAsync(HttpClient http, string name)
    {
        var created = DateTime.UtcNow.AddHours(-3).ToString("O", CultureInfo.InvariantCulture);
        var baseLayer = await UploadAsync(http, name, RandomNumberGenerator.GetBytes(4096));
        using var limit = new SemaphoreSlim(16);
        await Task.WhenAll(Enumerable.Range(0, Chains).Select(async chain =>
        {
            await limit.WaitAsync();
            try
            {
                var layers = new List<JsonObject> { baseLayer };
                string? last = null;
                for (int stage = 0; stage < StagesPerChain; stage++)
                {
                    layers.Add(await UploadAsync(http, name, RandomNumberGenerator.GetBytes(64)));
                    last = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{name}/{chain}/{stage}")));
                    var labels = new JsonObject { ["dapp"] = "bench-cleanup", ["dapp-stage-signature"] = last, ["dapp-cache-version"] = "1" };
                    await PutImageAsync(http, name, "dimgstage-" + last, labels, created, layers);
                }
                if (chain < Tagged)
                {
                    var labels = new JsonObject { ["dapp"] = "bench-cleanup", ["dapp-stage-signature"] = last, ["dapp-dimg"] = "true", ["dapp-tag-scheme"] = "custom" };
                    await PutImageAsync(http, name + "/app", $"t{chain}", labels, created, layers);
                }
            }
            finally
            {
                limit.Release();
            }
        }));
    }

    private static async Task PutImageAsync(HttpClient http, string repository, string tag, JsonObject labels, string created, List<JsonObject> layers)
    {
        var config = new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["created"] = created,
            ["config"] = new JsonObject { ["Labels"] = labels },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(layers.Select(l => (JsonNode)JsonValue.Create(l["digest"]!.GetValue<string>())!).ToArray()) },
        };
        var configDescriptor = await UploadAsync(http, repository, Encoding.UTF8.GetBytes(config.ToJsonString()), "application/vnd.oci.image.config.v1+json");
        // Layers are uploaded to the stages repository; a dimg repository mounts them from there.
        foreach (var layer in layers)
            if (repository.EndsWith("/app", StringComparison.Ordinal))
                using (var mount = await http.PostAsync($"v2/{repository}/blobs/uploads/?mount={layer["digest"]}&from={repository[..^4]}", null))
                    if ((int)mount.StatusCode != 201) throw new InvalidOperationException($"mount {layer["digest"]}: {mount.StatusCode}");
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["config"] = configDescriptor,
            ["layers"] = new JsonArray(layers.Select(l => (JsonNode)l.DeepClone()).ToArray()),
        };
        using var content = new StringContent(manifest.ToJsonString());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        using var response = await http.PutAsync($"v2/{repository}/manifests/{tag}", content);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"put {repository}:{tag}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>A monolithic upload (POST, then PUT with the digest); returns the blob's descriptor.</summary>
    private static async Task<JsonObject> UploadAsync(HttpClient http, string repository, byte[] bytes, string mediaType = "application/vnd.oci.image.layer.v1.tar+gzip")
    {
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        using var start = await http.PostAsync($"v2/{repository}/blobs/uploads/", null);
        if ((int)start.StatusCode != 202) throw new InvalidOperationException($"upload to {repository}: {start.StatusCode}");
        var location = start.Headers.Location!.ToString();
        var put = location + (location.Contains('?') ? "&" : "?") + "digest=" + Uri.EscapeDataString(digest);
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var done = await http.PutAsync(put, content);
        if ((int)done.StatusCode != 201) throw new InvalidOperationException($"upload {digest}: {done.StatusCode}");
        return new JsonObject { ["mediaType"] = mediaType, ["digest"] = digest, ["size"] = bytes.Length };
    }

    private static async Task<IReadOnlyList<string>> TagsAsync(HttpClient http, string repository)
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync($"v2/{repository}/tags/list?n=100000"));
        return json.RootElement.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToList();
    }

    [GeneratedRegex(@"deleted (\d+) of (\d+) stage\(s\)[^\n]*")]
    private static partial Regex SummaryLine();
}
