using System.Diagnostics;
using System.Runtime.ExceptionServices;
using MeshActors.TestKit.Internal;
using Xunit.Sdk;

namespace MeshActors.TestKit;

/// <summary>
/// Waiting for a condition or an assertion to become true, with a deadline, instead of sleeping. Usable without
/// actors (<c>using static MeshActors.TestKit.Conditions;</c>); <see cref="TestKit"/> exposes the same methods.
/// Explicit durations are dilated by <see cref="TestKitSettings.TimeFactor"/>; the default is the time left in the
/// enclosing <c>Within</c> block, else <see cref="TestKitSettings.DefaultTimeout"/>.
/// </summary>
public static class Conditions
{
    /// <summary>Waits until <paramref name="condition"/> returns true; fails the test after <paramref name="max"/>.</summary>
    public static void AwaitCondition(Func<bool> condition, TimeSpan? max = null, TimeSpan? interval = null, string? message = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = WithinScope.Resolve(max);
        var start = Stopwatch.GetTimestamp();
        while (!condition())
        {
            var left = WithinScope.Left(limit, start);
            if (left == TimeSpan.Zero)
            {
                throw ConditionFailed(limit, message);
            }

            Thread.Sleep(WithinScope.Shorter(left, interval ?? TestKitSettings.DefaultPollInterval));
        }
    }

    /// <summary>Waits until <paramref name="condition"/> returns true; fails the test after <paramref name="max"/>.</summary>
    public static Task AwaitConditionAsync(Func<bool> condition, TimeSpan? max = null, TimeSpan? interval = null, string? message = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return AwaitConditionAsync(() => Task.FromResult(condition()), max, interval, message);
    }

    /// <summary>Waits until <paramref name="condition"/> completes with true; fails the test after <paramref name="max"/>.</summary>
    public static async Task AwaitConditionAsync(Func<Task<bool>> condition, TimeSpan? max = null, TimeSpan? interval = null, string? message = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var limit = WithinScope.Resolve(max);
        var start = Stopwatch.GetTimestamp();
        while (!await condition().ConfigureAwait(false))
        {
            var left = WithinScope.Left(limit, start);
            if (left == TimeSpan.Zero)
            {
                throw ConditionFailed(limit, message);
            }

            await Task.Delay(WithinScope.Shorter(left, interval ?? TestKitSettings.DefaultPollInterval)).ConfigureAwait(false);
        }
    }

    /// <summary>Runs <paramref name="assertion"/> until it stops throwing; after <paramref name="max"/>, rethrows its last failure.</summary>
    public static void AwaitAssert(Action assertion, TimeSpan? max = null, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(assertion);
        var limit = WithinScope.Resolve(max);
        var start = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                assertion();
                return;
            }
            catch (Exception failure)
            {
                var left = WithinScope.Left(limit, start);
                if (left == TimeSpan.Zero)
                {
                    ExceptionDispatchInfo.Throw(failure);
                }

                Thread.Sleep(WithinScope.Shorter(left, interval ?? TestKitSettings.DefaultPollInterval));
            }
        }
    }

    /// <summary>
    /// Runs the async <paramref name="assertion"/> until it completes without throwing, blocking the test; after
    /// <paramref name="max"/>, rethrows its last failure. An <c>async</c> lambda binds here, not to the
    /// <see cref="Action"/> overload, where it would run as <c>async void</c> and never fail.
    /// </summary>
    public static void AwaitAssert(Func<Task> assertion, TimeSpan? max = null, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(assertion);

        // Off the test's synchronization context, which the assertion's awaits may need while this thread blocks.
        Task.Run(() => AwaitAssertAsync(assertion, max, interval)).GetAwaiter().GetResult();
    }

    /// <summary>Runs <paramref name="assertion"/> until it completes without throwing; after <paramref name="max"/>, rethrows its last failure.</summary>
    public static async Task AwaitAssertAsync(Func<Task> assertion, TimeSpan? max = null, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(assertion);
        var limit = WithinScope.Resolve(max);
        var start = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                await assertion().ConfigureAwait(false);
                return;
            }
            catch (Exception failure)
            {
                var left = WithinScope.Left(limit, start);
                if (left == TimeSpan.Zero)
                {
                    ExceptionDispatchInfo.Throw(failure);
                }

                await Task.Delay(WithinScope.Shorter(left, interval ?? TestKitSettings.DefaultPollInterval)).ConfigureAwait(false);
            }
        }
    }

    private static XunitException ConditionFailed(TimeSpan limit, string? message) =>
        new($"Condition not met within {limit.TotalSeconds:0.###} s{(message is null ? "" : ": " + message)}.");
}
