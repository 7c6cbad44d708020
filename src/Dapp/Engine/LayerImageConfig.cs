using System.Globalization;
using System.Text.Json;
using Docker.DotNet.Models;

namespace Dapp.Engine;

/// <summary>
/// The config JSON (the image format's, as an engine loads it) of an image made of another image's layers and one
/// more: the parent's platform and layers, the given container config. History gets one entry per layer, so that the
/// engine's history of the images committed on it still reaches it.
/// </summary>
internal static class LayerImageConfig
{
    /// <summary>Whether <see cref="Write"/> can carry every field of a commit config (it writes no healthcheck).</summary>
    public static bool CanCarry(CommitContainerChangesParameters config) => config.Healthcheck is null;

    public static byte[] Write(ImageInspectResponse parent, CommitContainerChangesParameters config, string diffId, string createdBy, DateTimeOffset created)
    {
        if (!CanCarry(config)) throw new ArgumentException("a healthcheck cannot be carried", nameof(config));
        var diffIds = (parent.RootFS?.Layers ?? []).Append(diffId).ToList();
        var time = created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("architecture", parent.Architecture);
            json.WriteString("os", parent.Os);
            if (!string.IsNullOrEmpty(parent.Variant)) json.WriteString("variant", parent.Variant);
            json.WriteString("created", time);
            json.WriteStartObject("config");
            if (!string.IsNullOrEmpty(config.User)) json.WriteString("User", config.User);
            Set(json, "ExposedPorts", config.ExposedPorts?.Keys);
            List(json, "Env", config.Env);
            List(json, "Entrypoint", config.Entrypoint);
            List(json, "Cmd", config.Cmd);
            Set(json, "Volumes", config.Volumes?.Keys);
            if (!string.IsNullOrEmpty(config.WorkingDir)) json.WriteString("WorkingDir", config.WorkingDir);
            if (config.Labels is { Count: > 0 } labels)
            {
                json.WriteStartObject("Labels");
                foreach (var (key, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal)) json.WriteString(key, value);
                json.WriteEndObject();
            }
            List(json, "OnBuild", config.OnBuild);
            if (!string.IsNullOrEmpty(config.StopSignal)) json.WriteString("StopSignal", config.StopSignal);
            json.WriteEndObject();
            json.WriteStartObject("rootfs");
            json.WriteString("type", "layers");
            json.WriteStartArray("diff_ids");
            foreach (var id in diffIds) json.WriteStringValue(id);
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteStartArray("history");
            for (var i = 0; i < diffIds.Count; i++)
            {
                json.WriteStartObject();
                json.WriteString("created", time);
                if (i == diffIds.Count - 1) json.WriteString("created_by", createdBy);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void List(Utf8JsonWriter json, string name, IEnumerable<string>? values)
    {
        if (values is null || !values.Any()) return;
        json.WriteStartArray(name);
        foreach (var value in values) json.WriteStringValue(value);
        json.WriteEndArray();
    }

    private static void Set(Utf8JsonWriter json, string name, IEnumerable<string>? keys)
    {
        if (keys is null || !keys.Any()) return;
        json.WriteStartObject(name);
        foreach (var key in keys.Order(StringComparer.Ordinal))
        {
            json.WriteStartObject(key);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }
}
