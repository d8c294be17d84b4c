# The R side of the benchmarks: a plain Rscript that reads R code from stdin,
# runs it in the global environment and answers on stdout.
#
# Protocol (see rprocess.py): the client writes lines of R code followed by a
# line "@@end"; this script answers one line "@@ok v1 v2 ..." (the value of
# the code, a numeric vector, at full precision) or "@@error message".  Code
# times itself with timed(expr), so only the R work is measured, not the pipe.

suppressPackageStartupMessages(library(lme4))

# Seconds spent evaluating `expr` (in the caller's environment, so
# assignments inside it stay there): c(wall, CPU of this process).
timed <- function(expr) {
  cpu <- proc.time()
  start <- Sys.time()
  force(expr)
  wall <- as.numeric(difftime(Sys.time(), start, units = "secs"))
  used <- proc.time() - cpu
  c(wall, used[["user.self"]] + used[["sys.self"]])
}

.answer <- function(value) {
  if (is.null(value)) return("@@ok")
  paste(c("@@ok", sprintf("%.17g", as.numeric(value))), collapse = " ")
}

.input <- file("stdin", open = "r")
repeat {
  code <- character()
  repeat {
    line <- readLines(.input, n = 1L)
    if (!length(line)) quit(save = "no")
    if (identical(line, "@@end")) break
    code <- c(code, line)
  }
  reply <- tryCatch(
    .answer(eval(parse(text = code, keep.source = FALSE), envir = globalenv())),
    error = function(e) paste("@@error", gsub("\n", " ", conditionMessage(e)))
  )
  cat(reply, "\n", sep = "")
  flush(stdout())
}
