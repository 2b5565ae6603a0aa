package pystream.compat;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;

/**
 * The bookkeeping of one ClientCheck run: counts checks, prints each stage's verdict and its
 * first failures, and decides the exit code. Not thread-safe; only the main thread reports.
 */
final class Checks {
  /** Failures printed per stage; the rest are only counted, so one bad stage stays readable. */
  private static final int MAX_REPORTED = 10;

  interface Stage {
    void run() throws Exception;
  }

  private final List<String> failures = new ArrayList<>();
  private int checks;
  private int stageFailures;

  /** Runs one stage; an exception fails it without stopping the stages after it. */
  boolean stage(String name, Stage body) {
    int before = failures.size();
    stageFailures = 0;
    try {
      body.run();
    } catch (Exception e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      fail(name + " threw " + cause);
    }
    boolean ok = failures.size() == before;
    if (stageFailures > MAX_REPORTED) {
      System.out.printf("  ... and %d more failures%n", stageFailures - MAX_REPORTED);
    }
    System.out.println((ok ? "ok    " : "FAIL  ") + name);
    return ok;
  }

  void check(boolean ok, String what) {
    checks++;
    if (!ok) {
      fail(what);
    }
  }

  void checkEq(Object expected, Object actual, String what) {
    check(Objects.equals(expected, actual), what + ": expected " + expected + ", got " + actual);
  }

  void fail(String what) {
    failures.add(what);
    if (++stageFailures <= MAX_REPORTED) {
      System.out.println("  failed: " + what);
    }
  }

  /** Prints the totals; 0 when every check passed, 1 otherwise. */
  int exitCode() {
    System.out.printf("ClientCheck: %d checks, %d failed%n", checks, failures.size());
    return failures.isEmpty() ? 0 : 1;
  }
}
