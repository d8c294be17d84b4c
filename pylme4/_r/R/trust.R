# The trust check of pipeline specs (pylme4/pipeline/trust.py holds the
# allow-list and passes it in): R code from a spec is parsed, never
# evaluated, and every function its parse tree calls must be on the list.
#
# The tree is walked with an explicit stack, not by recursion: a formula with
# thousands of terms is a left-nested tree thousands of calls deep, which a
# recursive walk would follow on the C stack.

# What is wrong with `text` as spec code, or "" when nothing is:
#   kind = "parse"     it is not R (message: R's parser's words)
#   kind = "shape"     not exactly one expression, or it holds a comment
#   kind = "call"      it calls a function not on the list (what: how it is written)
#   kind = "computed"  it calls a function computed by a call (what: that call's function)
# `plain`: functions allowed by name; `ns_pkg`, `ns_fun`: the allowed pkg::fun
# pairs; `check_calls = FALSE` (--trust) skips only the allow-list.
pylme4_code_check <- function(text, plain, ns_pkg, ns_fun, check_calls = TRUE) {
  result <- function(kind = "", what = "") list(kind = kind, what = what)
  parsed <- tryCatch(parse(text = text, keep.source = TRUE),
                     error = function(e) e)
  if (inherits(parsed, "error"))
    return(result("parse", conditionMessage(parsed)))
  if (length(parsed) != 1L)
    return(result("shape", sprintf("it holds %d expressions, not one", length(parsed))))
  # A comment would swallow the rest of the line it is pasted into (the
  # exported R script writes the formula as code).
  tokens <- utils::getParseData(parsed)$token
  if ("COMMENT" %in% tokens)
    return(result("shape", "it holds a comment ('#')"))
  if (!check_calls) return(result())
  allowed_ns <- paste(ns_pkg, ns_fun, sep = "::")
  stack <- vector("list", 64L)
  stack[[1L]] <- parsed[[1L]]
  top <- 1L
  while (top > 0L) {
    x <- stack[[top]]
    stack[top] <- list(NULL)
    top <- top - 1L
    if (!is.call(x)) next
    head <- x[[1L]]
    if (is.name(head)) {
      name <- as.character(head)
      if (!(name %in% plain)) return(result("call", name))
    } else if (is.call(head) && length(head) == 3L && is.name(head[[1L]]) &&
               as.character(head[[1L]]) %in% c("::", ":::")) {
      op <- as.character(head[[1L]])
      pkg <- head[[2L]]
      fun <- head[[3L]]
      written <- paste0(as.character(pkg)[1L], op, as.character(fun)[1L])
      if (op == ":::" || !is.name(pkg) && !is.character(pkg) ||
          !is.name(fun) && !is.character(fun) ||
          !(paste(as.character(pkg), as.character(fun), sep = "::") %in% allowed_ns))
        return(result("call", written))
    } else {
      # A function that is computed ((function(x) ...)(1), get("f")(x), f(x)(y)):
      # what it calls cannot be known without running it.  Name the call that
      # computes it when that one is refused anyway (get, function, ...).
      inner <- if (is.call(head) && is.name(head[[1L]])) as.character(head[[1L]]) else ""
      if (nzchar(inner) && !(inner %in% plain)) return(result("call", inner))
      return(result("computed", inner))
    }
    # Arguments, pushed in reverse so the leftmost call is reported first.
    args <- as.list(x)[-1L]
    for (i in rev(seq_along(args))) {
      arg <- args[[i]]
      if (missing(arg) || !is.call(arg)) next
      if (top == length(stack)) length(stack) <- 2L * length(stack)
      top <- top + 1L
      stack[[top]] <- arg
    }
  }
  result()
}
