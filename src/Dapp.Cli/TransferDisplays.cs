using System.Collections.Concurrent;
using System.Diagnostics;
using Dapp.Reporting;
using Spectre.Console;

namespace Dapp.Cli;

/// <summary>The state of a set of transfers, shared by the displays.</summary>
internal sealed class TransferState
{
    public ConcurrentDictionary<string, (long Done, long Total, bool Finished)> Images { get; } = new();

    public void Update(string image, long done, long total) =>
        Images.AddOrUpdate(image, (done, total, false), (_, old) => (done, Math.Max(total, old.Total), old.Finished));

    public void Finished(string image) =>
        Images.AddOrUpdate(image, (0, 0, true), (_, old) => (old.Total, old.Total, true));
}

/// <summary>One live display for all transfers on a terminal: a bar per image with bytes and rate.</summary>
internal sealed class LiveTransferDisplay : ITransferDisplay
{
    private readonly TransferState _state = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _render;

    private readonly Action _ended;

    /// <param name="ended">Told once the display is gone from the terminal.</param>
    public LiveTransferDisplay(IAnsiConsole console, string verb, Action ended)
    {
        _ended = ended;
        _render = console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .StartAsync(async context =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                while (true)
                {
                    foreach (var (image, (done, total, finished)) in _state.Images)
                    {
                        if (!tasks.TryGetValue(image, out var task))
                            tasks[image] = task = context.AddTask($"{verb} {Markup.Escape(image)}", maxValue: Math.Max(1, total));
                        task.MaxValue = Math.Max(1, total);
                        task.Value = finished ? task.MaxValue : done;
                    }
                    if (_stop.IsCancellationRequested) break;
                    try
                    {
                        await Task.Delay(100, _stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            });
    }

    public void Update(string image, long doneBytes, long totalBytes) => _state.Update(image, doneBytes, totalBytes);

    public void Finished(string image) => _state.Finished(image);

    public void Dispose()
    {
        _stop.Cancel();
        _render.GetAwaiter().GetResult();
        _stop.Dispose();
        _ended();
    }
}

/// <summary>Plain periodic lines when the output is not a terminal (CI logs).</summary>
internal sealed class PlainTransferDisplay : ITransferDisplay
{
    private readonly TransferState _state = new();
    private readonly Timer _timer;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Action<string> _write;
    private readonly string _verb;
    private readonly int _images;

    public PlainTransferDisplay(Action<string> write, string verb, int images, TimeSpan interval)
    {
        _write = write;
        _verb = verb;
        _images = images;
        _timer = new Timer(_ => _write(Line()), null, interval, interval);
    }

    /// <summary><c>pull: 1 of 3 images done, 40.2 MiB of 120.5 MiB, 20.1 MiB/s</c>.</summary>
    public string Line()
    {
        var images = _state.Images.Values.ToList();
        var done = images.Sum(i => i.Done);
        var total = images.Sum(i => i.Total);
        var rate = _clock.Elapsed.TotalSeconds > 0 ? (long)(done / _clock.Elapsed.TotalSeconds) : 0;
        return $"{_verb}: {images.Count(i => i.Finished)} of {_images} images done, {TransferTotals.Format(done)} of {TransferTotals.Format(total)}, {TransferTotals.Format(rate)}/s";
    }

    public void Update(string image, long doneBytes, long totalBytes) => _state.Update(image, doneBytes, totalBytes);

    public void Finished(string image) => _state.Finished(image);

    public void Dispose() => _timer.Dispose();
}
