# R's printout of tables that come from pandas (pylme4.formatting.r_print):
# the values with the index as row names (or names), printed by R's own
# print method, so a coef() table reads exactly as it does in R.

pylme4_print_frame <- function(frame, row_names) {
  rownames(frame) <- row_names
  pylme4_print(frame)
}

pylme4_print_vector <- function(values, value_names) {
  names(values) <- value_names
  pylme4_print(values)
}
