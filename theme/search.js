/* search: replaced by the search feature */
